// Global opaque ids: base64url of `<PROVIDER>:<Type>:<provider id>`. Clients
// must treat them as opaque; the encoding only has to round-trip.
import { userInputError } from './errors.js';
import { PROVIDERS, type ProviderName } from './model.js';

export const NODE_TYPES = ['Contact', 'Conversation', 'Message', 'User', 'Webhook', 'StoredEvent'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface GlobalId {
  readonly provider: ProviderName;
  readonly type: NodeType;
  readonly providerId: string;
}

export function encodeId(provider: ProviderName, type: NodeType, providerId: string): string {
  return Buffer.from(`${provider}:${type}:${providerId}`, 'utf8').toString('base64url');
}

/** Decodes a global id or throws BAD_USER_INPUT saying what was wrong. */
export function decodeId(id: string, expected?: NodeType): GlobalId {
  const decoded = /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString('utf8') : '';
  const first = decoded.indexOf(':');
  const second = decoded.indexOf(':', first + 1);
  const provider = decoded.slice(0, first);
  const type = decoded.slice(first + 1, second);
  const providerId = decoded.slice(second + 1);
  if (first < 0 || second < 0 || !isProvider(provider) || !isNodeType(type) || providerId.length === 0) {
    throw userInputError(`"${id.slice(0, 80)}" is not a valid global id`, { argumentValue: id.slice(0, 80) });
  }
  if (expected && type !== expected) {
    throw userInputError(`Expected a ${expected} id, got a ${type} id`);
  }
  return { provider, type, providerId };
}

function isProvider(value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value);
}

function isNodeType(value: string): value is NodeType {
  return (NODE_TYPES as readonly string[]).includes(value);
}
