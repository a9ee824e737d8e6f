// Global opaque ids: base64url of `<PROVIDER>:<Type>:<provider id>`, or
// `<PROVIDER>@<account>:<Type>:<provider id>` for what a stored account's
// credentials read (24 hex digits, accounts/types.ts). An id without an account
// means the provider's default account, so every id issued before accounts
// keeps working. Clients must treat them as opaque; the encoding only has to round-trip. Decoding
// checks the provider id against that provider's id rules, so nothing a
// provider could never have issued reaches an upstream path.
import { userInputError } from './errors.js';
import { PROVIDERS, type ProviderName } from './model.js';
import { descriptorOf } from './providers/index.js';

export const NODE_TYPES = ['Contact', 'Conversation', 'Message', 'User', 'Webhook', 'StoredEvent', 'Account', 'OutboundMessage'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Longer than any id this gateway issues (the longest, a pair of provider ids, encodes to ~90 characters). */
export const MAX_GLOBAL_ID_LENGTH = 512;

/** Stored events are the gateway's own (see events/event-id.ts). */
const STORED_EVENT_ID = /^[0-9a-f]{28}$/;
/** Accounts are the gateway's own (see accounts/types.ts). */
const ACCOUNT_ID = /^(?:env|[0-9a-f]{24})$/;
/** Messages a provider sent without an id get `~` + 24 hex (resolvers/message.ts). */
const UNIDENTIFIED_MESSAGE = /^~[0-9a-f]{24}$/;

/** A stored account's id inside a global id (never `env`: the default account's ids carry none). */
const STORED_ACCOUNT_ID = /^[0-9a-f]{24}$/;

export interface GlobalId {
  readonly provider: ProviderName;
  /** The stored account the id was issued for; null for the default (environment's) account. */
  readonly account: string | null;
  readonly type: NodeType;
  readonly providerId: string;
}

/** `account` is a stored account's id; null, undefined or `env` make an id of the default account. */
export function encodeId(provider: ProviderName, type: NodeType, providerId: string, account?: string | null): string {
  const head = account && account !== 'env' ? `${provider}@${account}` : provider;
  return Buffer.from(`${head}:${type}:${providerId}`, 'utf8').toString('base64url');
}

/** Decodes a global id or throws BAD_USER_INPUT saying what was wrong. */
export function decodeId(id: string, expected?: NodeType): GlobalId {
  if (id.length > MAX_GLOBAL_ID_LENGTH) {
    throw userInputError(`A global id has at most ${MAX_GLOBAL_ID_LENGTH} characters, got ${id.length}`, { argumentValue: id.slice(0, 80) });
  }
  const decoded = /^[A-Za-z0-9_-]+$/.test(id) ? Buffer.from(id, 'base64url').toString('utf8') : '';
  const first = decoded.indexOf(':');
  const second = decoded.indexOf(':', first + 1);
  const head = decoded.slice(0, first);
  const at = head.indexOf('@');
  const provider = at < 0 ? head : head.slice(0, at);
  const account = at < 0 ? null : head.slice(at + 1);
  const type = decoded.slice(first + 1, second);
  const providerId = decoded.slice(second + 1);
  if (first < 0 || second < 0 || !isProvider(provider) || !isNodeType(type) || providerId.length === 0 || (account !== null && !STORED_ACCOUNT_ID.test(account))) {
    throw userInputError(`"${id.slice(0, 80)}" is not a valid global id`, { argumentValue: id.slice(0, 80) });
  }
  if (expected && type !== expected) {
    throw userInputError(`Expected a ${expected} id, got a ${type} id`);
  }
  const problem = providerIdProblem(provider, type, providerId);
  if (problem) throw userInputError(`"${id.slice(0, 80)}" is not a valid global id: ${problem}`, { argumentValue: id.slice(0, 80) });
  return { provider, account, type, providerId };
}

/** What is wrong with the provider id part, or null when it is one the gateway could have issued. */
function providerIdProblem(provider: ProviderName, type: NodeType, providerId: string): string | null {
  const shown = JSON.stringify(providerId.slice(0, 80));
  if (type === 'StoredEvent') return STORED_EVENT_ID.test(providerId) ? null : `expected a stored event id of 28 hex digits, got ${shown}`;
  if (type === 'OutboundMessage') return /^[0-9a-f]{24}$/.test(providerId) ? null : `expected an outbound message id of 24 hex digits, got ${shown}`;
  if (type === 'Account') return ACCOUNT_ID.test(providerId) ? null : `expected an account id (env or 24 hex digits), got ${shown}`;
  if (type === 'Message' && UNIDENTIFIED_MESSAGE.test(providerId)) return null;
  const rule = descriptorOf(provider).ids[type];
  return rule.pattern.test(providerId) ? null : `expected a ${provider} ${type} id of ${rule.expected}, got ${shown}`;
}

function isProvider(value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value);
}

function isNodeType(value: string): value is NodeType {
  return (NODE_TYPES as readonly string[]).includes(value);
}
