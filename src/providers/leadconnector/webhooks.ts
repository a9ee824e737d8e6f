// Receiving HighLevel webhooks: signature checks (Ed25519 `x-ghl-signature`,
// else legacy RSA `x-wh-signature`), the replay window on the body's
// `timestamp`, and splitting a delivery into normalized message events.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { LeadConnectorConfig } from './config.js';
import type { MessageEventKind } from '../../model.js';
import type { ParsedEvent, PayloadIds, ProviderDeps, VerifyResult, WebhookReceiver, WebhookRequest } from '../provider.js';
import { payloadKeys } from '../provider.js';
import { createVerifier } from '../verify.js';
import { hashKey, unprocessable } from '../delivery.js';
import { isRecord, present, str } from '../guards.js';
import type { LeadConnectorEventType } from './event-types.js';
import type { RawMessage, RawProviderOutboundMessage } from './client.js';
import { normalizeLeadConnectorMessage, normalizeLeadConnectorProviderOutbound } from './normalize.js';

type ReceiverConfig = Pick<LeadConnectorConfig, 'webhookPublicKey' | 'webhookEd25519PublicKey' | 'webhookToleranceMs'>;

/**
 * Throws at start-up when a configured key cannot be read, naming the variable
 * to fix. HighLevel's keys are published and always configured (defaults), so
 * under the shared policy every delivery is verified.
 */
export function createLeadConnectorReceiver(config: ReceiverConfig, deps: Pick<ProviderDeps, 'allowUnsignedWebhooks'>): WebhookReceiver {
  const ed25519 = readKey(config.webhookEd25519PublicKey, 'ed25519', 'LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY');
  const rsa = readKey(config.webhookPublicKey, 'rsa', 'LEADCONNECTOR_WEBHOOK_PUBLIC_KEY');

  function verifyDelivery(req: WebhookRequest): VerifyResult {
    const ghl = req.headers['x-ghl-signature'];
    const wh = req.headers['x-wh-signature'];
    // HighLevel's SDK order: a present x-ghl-signature decides alone, with no fallback to x-wh-signature.
    if (ghl !== undefined) {
      if (!signatureValid(null, req.rawBody, ed25519, ghl)) {
        return { ok: false, reason: 'x-ghl-signature is not an Ed25519 signature of the body by the configured key' };
      }
    } else if (wh !== undefined) {
      if (!signatureValid('sha256', req.rawBody, rsa, wh)) {
        return { ok: false, reason: 'x-wh-signature is not an RSA-SHA256 signature of the body by the configured key' };
      }
    } else {
      return { ok: false, reason: 'expected an x-ghl-signature or x-wh-signature header, got neither' };
    }
    return checkTimestamp(req, config.webhookToleranceMs);
  }

  const { verify, verification } = createVerifier(
    {
      provider: 'LEADCONNECTOR',
      scheme: `x-ghl-signature (Ed25519) or x-wh-signature (RSA), and a signed timestamp within ${Math.round(config.webhookToleranceMs / 1000)} s`,
      configured: [config.webhookEd25519PublicKey, config.webhookPublicKey],
      usesStored: false,
      variable: 'LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY',
      allowUnsigned: deps.allowUnsignedWebhooks,
    },
    verifyDelivery,
  );
  return {
    scope: leadConnectorAccountKeys,
    verify,
    verification,
    parse: (body, req) => parseLeadConnectorWebhook(body, req.rawBody),
    invalidJson: 'reject',
    retryStatus: 429, // HighLevel retries a delivery only when answered 429
  };
}

/**
 * One event per delivery. The event type decides the direction: HighLevel's own
 * examples show an OutboundMessage with `direction: inbound` and file a call of
 * type OutboundMessage under InboundMessage. ProviderOutboundMessage has no event
 * name in its body: its `type` is the channel, "SMS" or "Email".
 */
export function parseLeadConnectorWebhook(body: unknown, rawBody: Buffer): readonly ParsedEvent[] {
  if (!isRecord(body)) return [unprocessable(rawBody, null, `expected a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`)];
  const type = str(body.type);
  const eventType = eventTypeOf(type);
  if (eventType === null) {
    return [
      unprocessable(rawBody, type, `expected type InboundMessage, OutboundMessage, or SMS / Email (ProviderOutboundMessage), got ${JSON.stringify(body.type) ?? 'none'}`),
    ];
  }
  const required = eventType === 'ProviderOutboundMessage' ? ['messageId', 'contactId'] : ['messageType', 'conversationId'];
  const missing = required.filter((name) => str(body[name]) === null);
  if (missing.length > 0) return [unprocessable(rawBody, eventType, `expected ${eventType} to carry string ${missing.join(' and ')}, got none`)];

  const message =
    eventType === 'ProviderOutboundMessage'
      ? normalizeLeadConnectorProviderOutbound(body as RawProviderOutboundMessage)
      : normalizeLeadConnectorMessage(body as RawMessage, eventType === 'InboundMessage' ? 'INBOUND' : 'OUTBOUND');
  const kind: MessageEventKind = eventType === 'InboundMessage' ? 'RECEIVED' : message.status === 'FAILED' ? 'FAILED' : 'SENT';
  return [{ eventKey: leadConnectorEventKey(body, eventType, rawBody), providerEventType: eventType, result: { ok: true, event: { kind, message } } }];
}

/**
 * Dedupe key: HighLevel's `webhookId`; bodies without one (the documented
 * examples) fall back to the message id with the event type, then to the body.
 */
export function leadConnectorEventKey(body: Readonly<Record<string, unknown>>, eventType: LeadConnectorEventType, rawBody: Buffer): string {
  const webhookId = str(body.webhookId);
  if (webhookId !== null) return `webhook:${webhookId}`;
  const messageId = str(body.messageId);
  if (messageId !== null) return `message:${hashKey(eventType, messageId)}`;
  return `raw:${hashKey(rawBody)}`;
}

function eventTypeOf(type: string | null): LeadConnectorEventType | null {
  if (type === 'InboundMessage' || type === 'OutboundMessage') return type;
  if (type === 'SMS' || type === 'Email') return 'ProviderOutboundMessage';
  return null;
}

function checkTimestamp(req: WebhookRequest, toleranceMs: number): VerifyResult {
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { ok: true }; // not JSON: the receiver's invalidJson rule answers it
  }
  // The Webhook Authentication guide puts `timestamp` in every body (the per-event examples are abridged):
  // a signed body without one would be replayable forever.
  if (!isRecord(body) || !('timestamp' in body)) return { ok: false, reason: 'no timestamp in the signed body' };
  const at = typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : NaN;
  if (Number.isNaN(at)) return { ok: false, reason: `expected timestamp to be an ISO-8601 date, got ${JSON.stringify(body.timestamp)}` };
  const ageMs = req.receivedAt.getTime() - at;
  if (Math.abs(ageMs) <= toleranceMs) return { ok: true };
  const when = ageMs > 0 ? `${Math.round(ageMs / 1000)} s old` : `${Math.round(-ageMs / 1000)} s in the future`;
  return { ok: false, reason: `timestamp ${String(body.timestamp)} is ${when}; at most ${toleranceMs / 1000} s either way is accepted` };
}

function signatureValid(algorithm: 'sha256' | null, body: Buffer, key: KeyObject, signature: string): boolean {
  try {
    return verify(algorithm, body, key, Buffer.from(signature, 'base64'));
  } catch {
    return false; // a malformed signature is just not a valid one
  }
}

/** PEM, or base64 DER (SPKI) as HighLevel publishes its Ed25519 key. */
function readKey(value: string, type: 'ed25519' | 'rsa', variable: string): KeyObject {
  let key: KeyObject;
  try {
    key = value.includes('-----BEGIN')
      ? createPublicKey(value)
      : createPublicKey({ key: Buffer.from(value.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`${variable} must be a PEM or base64 DER (SPKI) public key: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (key.asymmetricKeyType !== type) throw new Error(`${variable} must be an ${type} public key, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  return key;
}

/** A HighLevel delivery names its location (`locationId`) and, for some events, its agency (`companyId`). */
export function leadConnectorPayloadScope(body: unknown): PayloadIds {
  const b = isRecord(body) ? body : {};
  return { locationIds: present(b.locationId), organizationIds: present(b.companyId), appIds: [] };
}

/**
 * A delivery naming a location is that location's account's; only one naming
 * no location goes to its company's (agency) account.
 */
export function leadConnectorAccountKeys(body: unknown): readonly string[] {
  const { locationIds, organizationIds } = leadConnectorPayloadScope(body);
  return locationIds.length > 0 ? payloadKeys({ locationIds }) : payloadKeys({ organizationIds });
}
