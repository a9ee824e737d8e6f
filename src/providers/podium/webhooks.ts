// Receiving Podium webhooks: the optional HMAC signature (`podium-timestamp`,
// `podium-signature`), the {data, metadata} envelope, message event types and
// the dedupe key rules.
import { createHmac } from 'node:crypto';
import type { PodiumConfig } from './config.js';
import type { ParsedEvent, PayloadIds, ProviderDeps, VerifyResult, WebhookReceiver, WebhookRequest } from '../provider.js';
import { payloadKeys } from '../provider.js';
import { hashKey, unprocessable } from '../delivery.js';
import { isRecord, present, str } from '../guards.js';
import { createVerifier, safeEqual } from '../verify.js';
import { PODIUM_MESSAGE_EVENTS } from './event-types.js';
import type { PodiumMessage } from './client.js';
import { normalizePodiumMessage } from './normalize.js';

/**
 * Podium signs only webhooks created with a secret, so without one configured
 * or stored there is nothing to check: the shared policy decides (verify.ts).
 */
export function createPodiumReceiver(
  config: Pick<PodiumConfig, 'webhookSecret' | 'webhookToleranceMs'>,
  deps: Pick<ProviderDeps, 'allowUnsignedWebhooks'>,
): WebhookReceiver {
  const { verify, verification } = createVerifier(
    {
      provider: 'PODIUM',
      scheme: 'podium-signature HMAC-SHA256',
      configured: [config.webhookSecret],
      usesStored: true,
      variable: 'PODIUM_WEBHOOK_SECRET',
      allowUnsigned: deps.allowUnsignedWebhooks,
    },
    (req, secrets) => verifyPodiumSignature(req, secrets, config.webhookToleranceMs),
  );
  return {
    scope: (body) => payloadKeys(podiumPayloadScope(body)),
    verify,
    verification,
    parse(body, req) {
      try {
        return [parseDelivery(body, req)];
      } catch (err) {
        return [unprocessable(req.rawBody, null, `Podium delivery could not be parsed: ${err instanceof Error ? err.message : String(err)}`)];
      }
    },
    // Podium retries any non-200, so a body garbled on the way is sent again intact.
    invalidJson: 'reject',
    retryStatus: 503,
  };
}

/** A Podium delivery names its location (`data.location.uid`, `data.locationUid`) and sometimes its organization. */
export function podiumPayloadScope(body: unknown): PayloadIds {
  const data = isRecord(body) && isRecord(body.data) ? body.data : {};
  const metadata = isRecord(body) && isRecord(body.metadata) ? body.metadata : {};
  const location = isRecord(data.location) ? data.location : {};
  const organization = isRecord(data.organization) ? data.organization : {};
  return {
    locationIds: present(location.uid, data.locationUid, metadata.locationUid),
    organizationIds: present(organization.uid, data.organizationUid, metadata.organizationUid),
    appIds: [],
  };
}

export function verifyPodiumSignature(req: WebhookRequest, secrets: readonly string[], toleranceMs: number): VerifyResult {
  const timestamp = req.headers['podium-timestamp']?.trim();
  const signature = req.headers['podium-signature']?.trim();
  if (!timestamp) return { ok: false, reason: 'podium-timestamp header is missing' };
  if (!signature) return { ok: false, reason: 'podium-signature header is missing' };
  if (!/^(\d{10}|\d{13})$/.test(timestamp)) {
    return { ok: false, reason: `podium-timestamp "${timestamp.slice(0, 40)}" is not Unix time in milliseconds (13 digits) or seconds (10 digits)` };
  }
  const sentAt = timestamp.length === 13 ? Number(timestamp) : Number(timestamp) * 1000;
  const offset = sentAt - req.receivedAt.getTime();
  if (Math.abs(offset) > toleranceMs) {
    const when = offset > 0 ? `${duration(offset)} from now` : `${duration(-offset)} old`;
    return { ok: false, reason: `podium-timestamp ${timestamp} is ${when}, tolerance ${Math.round(toleranceMs / 1000)} s` };
  }
  const given = signature.replace(/^sha256=/i, '').toLowerCase();
  const matches = secrets.map((secret) => safeEqual(podiumSignature(secret, timestamp, req.rawBody), given));
  if (!matches.includes(true)) {
    return { ok: false, reason: `podium-signature does not match (checked ${secrets.length} secret${secrets.length === 1 ? '' : 's'})` };
  }
  return { ok: true };
}

/** Lowercase hex HMAC-SHA256 of `<timestamp>.<raw body>`. */
export function podiumSignature(secret: string, timestamp: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * Dedupe key: Podium's event uid when sent, else event type + message uid,
 * else the body's hash. The prefixes keep the three kinds from colliding.
 */
export function podiumEventKey(eventType: string, metadata: Record<string, unknown>, data: Record<string, unknown>, rawBody: Buffer): string {
  const eventUid = str(metadata.eventUid) ?? str(metadata.event_uid);
  if (eventUid) return `uid:${eventUid}`;
  const uid = str(data.uid);
  if (uid) return `h:${hashKey(eventType, uid)}`;
  return `raw:${hashKey(rawBody)}`;
}

function parseDelivery(body: unknown, req: WebhookRequest): ParsedEvent {
  if (!isRecord(body) || !isRecord(body.metadata)) {
    return unprocessable(req.rawBody, null, 'expected a Podium envelope {data, metadata}, got no metadata object');
  }
  const eventType = str(body.metadata.eventType) ?? str(body.metadata.event_type);
  if (!eventType) return unprocessable(req.rawBody, null, 'Podium metadata has no eventType (or event_type)');
  if (!isRecord(body.data)) return unprocessable(req.rawBody, eventType, `Podium ${eventType} has no data object`);

  const eventKey = podiumEventKey(eventType, body.metadata, body.data, req.rawBody);
  const kind = PODIUM_MESSAGE_EVENTS.get(eventType);
  if (!kind) {
    return { eventKey, providerEventType: eventType, result: { ok: false, reason: `Podium event type ${eventType} is not a message event (message.sent, message.received, message.failed)` } };
  }
  const message = body.data as PodiumMessage;
  if (!isRecord(message.conversation) || !str(message.conversation.uid)) {
    return { eventKey, providerEventType: eventType, result: { ok: false, reason: `Podium ${eventType} has no data.conversation.uid` } };
  }
  return { eventKey, providerEventType: eventType, result: { ok: true, event: { kind, message: normalizePodiumMessage(message, eventType) } } };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  if (s < 63_072_000) return `${Math.round(s / 86_400)} days`;
  return `${Math.round(s / 31_557_600)} years`;
}
