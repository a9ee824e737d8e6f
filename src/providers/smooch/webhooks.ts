// Receives Smooch / Sunshine Conversations webhooks: checks the `X-API-Key`
// header against every known webhook secret, and splits a delivery into events.
// v2 bodies carry `events[]` (each its own event, keyed by its id); v1.1 bodies
// carry a `trigger` and `messages[]` (each message its own event, keyed by
// trigger + message id, + destination type for delivery events).
import type { SmoochConfig } from './config.js';
import type { MessageEventKind, MessageRecord } from '../../model.js';
import type { ParsedEvent, PayloadIds, ProviderDeps, VerifyResult, WebhookReceiver, WebhookRequest } from '../provider.js';
import { payloadKeys } from '../provider.js';
import { hashKey, unprocessable } from '../delivery.js';
import { isRecord, present, str } from '../guards.js';
import { createVerifier, safeEqual } from '../verify.js';
import type { RawMessage, RawV11Message, RawV11Payload, RawV2DeliveryPayload } from './client.js';
import {
  normalizeSmoochMessage,
  normalizeSmoochV11DeliveryFailure,
  normalizeSmoochV11Message,
  normalizeSmoochV2DeliveryFailure,
} from './normalize.js';

export function createSmoochReceiver(config: Pick<SmoochConfig, 'webhookSecret'>, deps: Pick<ProviderDeps, 'allowUnsignedWebhooks'>): WebhookReceiver {
  const { verify, verification } = createVerifier(
    {
      provider: 'SMOOCH',
      scheme: 'X-API-Key',
      configured: [config.webhookSecret],
      usesStored: true,
      variable: 'SMOOCH_WEBHOOK_SECRET',
      allowUnsigned: deps.allowUnsignedWebhooks,
    },
    checkApiKey,
  );
  return {
    scope: (body) => payloadKeys(smoochPayloadScope(body)),
    verify,
    verification,
    parse(body, req) {
      if (!isRecord(body)) return [unprocessable(req.rawBody, null, 'expected a Smooch webhook JSON object')];
      if ('events' in body) return parseV2(body.events, req);
      const trigger = str(body.trigger);
      if (trigger) return parseV11(trigger, body as RawV11Payload, req);
      return [unprocessable(req.rawBody, null, 'expected a Smooch v2 body with events[] or a v1.1 body with a trigger, got neither')];
    },
    // Smooch drops a delivery answered 400, so an authentic non-JSON body is kept.
    invalidJson: 'store',
    // Smooch cannot list users or conversations: the gateway lists the ones its webhooks named.
    feedsDirectory: true,
    retryStatus: 503,
  };
}

function checkApiKey(req: WebhookRequest, secrets: readonly string[]): VerifyResult {
  const key = req.headers['x-api-key'];
  if (!key) return { ok: false, reason: 'expected an X-API-Key header, got none' };
  // Compare with every secret so the time taken does not tell which one matched.
  const matches = secrets.map((s) => safeEqual(key, s));
  return matches.includes(true) ? { ok: true } : { ok: false, reason: 'X-API-Key matches no Smooch webhook secret' };
}

function parseV2(events: unknown, req: WebhookRequest): ParsedEvent[] {
  if (!Array.isArray(events) || events.length === 0) {
    return [unprocessable(req.rawBody, null, 'expected a non-empty events[] in a Smooch v2 webhook')];
  }
  return events.map((event: unknown, index): ParsedEvent => {
    const type = isRecord(event) ? str(event.type) : null;
    const id = isRecord(event) ? str(event.id) : null;
    if (!isRecord(event) || !id) {
      return { eventKey: `raw:${hashKey(req.rawBody, String(index))}`, providerEventType: type, result: failed(`events[${index}] has no id`) };
    }
    const payload = isRecord(event.payload) ? event.payload : {};
    const outcome = normalizeV2Event(type, payload, str(event.createdAt));
    return { eventKey: id, providerEventType: type, result: outcome };
  });
}

function normalizeV2Event(type: string | null, payload: Record<string, unknown>, createdAt: string | null): ParsedEvent['result'] {
  switch (type) {
    case 'conversation:message': {
      const conversationId = isRecord(payload.conversation) ? str(payload.conversation.id) : null;
      const message = isRecord(payload.message) ? payload.message : null;
      if (!conversationId || !message || !str(message.id)) return failed('conversation:message without conversation.id or message.id');
      const authorType = isRecord(message.author) ? str(message.author.type) : null;
      const kind = authorType === 'user' ? 'RECEIVED' : authorType === 'business' ? 'SENT' : null;
      if (!kind) return failed(`expected message.author.type user or business, got ${JSON.stringify(authorType)}`);
      return ok(kind, normalizeSmoochMessage(message as unknown as RawMessage, conversationId));
    }
    case 'conversation:message:delivery:failure': {
      const failure = payload as RawV2DeliveryPayload;
      if (!str(failure.message?.id)) return failed('conversation:message:delivery:failure without message.id');
      return ok('FAILED', normalizeSmoochV2DeliveryFailure(failure, createdAt));
    }
    default:
      return failed(`Smooch event type ${JSON.stringify(type)} is not a message sent, received or failed event`);
  }
}

function parseV11(trigger: string, payload: RawV11Payload, req: WebhookRequest): ParsedEvent[] {
  const messages: unknown[] = Array.isArray(payload.messages) ? payload.messages : [];
  switch (trigger) {
    case 'message:appUser':
    case 'message:appMaker': {
      const fromUser = trigger === 'message:appUser';
      if (messages.length === 0) return [unprocessable(req.rawBody, trigger, `expected messages[] in a ${trigger} webhook`)];
      return messages.map((raw, index): ParsedEvent => {
        const id = isRecord(raw) ? str(raw._id) : null;
        if (!id) return { eventKey: `raw:${hashKey(req.rawBody, String(index))}`, providerEventType: trigger, result: failed(`messages[${index}] has no _id`) };
        return {
          eventKey: `${trigger}:${id}`,
          providerEventType: trigger,
          result: ok(fromUser ? 'RECEIVED' : 'SENT', normalizeSmoochV11Message(payload, raw as RawV11Message, fromUser)),
        };
      });
    }
    case 'message:delivery:failure':
    case 'delivery:failure': {
      // v1.1 names the message in `message`; v1 listed full messages in `messages[]`.
      const named = (isRecord(payload.message) ? [payload.message] : messages).filter(isRecord);
      const destination = str(payload.destination?.type) ?? '';
      const keyed = named.flatMap((m) => {
        const id = str(m._id);
        return id ? [{ id, text: str(m.text) }] : [];
      });
      if (keyed.length === 0) return [unprocessable(req.rawBody, trigger, `expected message._id in a ${trigger} webhook`)];
      return keyed.map(({ id, text }) => ({
        eventKey: `${trigger}:${id}:${destination}`,
        providerEventType: trigger,
        result: ok('FAILED', normalizeSmoochV11DeliveryFailure(payload, id, text)),
      }));
    }
    default:
      return [unprocessable(req.rawBody, trigger, `Smooch trigger ${JSON.stringify(trigger)} is not a message sent, received or failed event`)];
  }
}

function ok(kind: MessageEventKind, message: MessageRecord): ParsedEvent['result'] {
  return { ok: true, event: { kind, message } };
}

function failed(reason: string): ParsedEvent['result'] {
  return { ok: false, reason };
}

/** A Smooch delivery names its app: `app.id` (v2) or `app._id` (v1.1). */
export function smoochPayloadScope(body: unknown): PayloadIds {
  const app = isRecord(body) && isRecord(body.app) ? body.app : {};
  return { locationIds: [], organizationIds: [], appIds: present(app.id, app._id) };
}
