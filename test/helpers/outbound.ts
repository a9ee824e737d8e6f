// Sending tests: the agent key, the mutation and its selection, and the
// recipients the emulators' seeded data offers (found through the gateway itself).
import { encodeId } from '../../src/ids.js';
import type { ProviderName } from '../../src/model.js';
import { ADMIN_KEY, VIEWER_KEY, type TestGateway } from './gateway.js';

export const AGENT_KEY = 'test-agent-key';
export const KEYS_ENV = { GATEWAY_API_KEYS: `admin:${ADMIN_KEY},viewer:${VIEWER_KEY},agent:${AGENT_KEY}` };

export const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) {
  outboundMessage { id idempotencyKey provider status failureReason channel body queuedUntil createdAt updatedAt
    conversation { id } contact { id } message { id direction body } account { id } }
  userErrors { code field message } } }`;

export interface Outbound {
  id: string;
  idempotencyKey: string;
  provider: ProviderName;
  status: string;
  failureReason: string | null;
  channel: string | null;
  body: string | null;
  queuedUntil: string | null;
  conversation: { id: string } | null;
  contact: { id: string } | null;
  message: { id: string; direction: string; body: string | null } | null;
  account: { id: string };
}

export interface SendAnswer {
  sendMessage: { outboundMessage: Outbound | null; userErrors: Array<{ code: string; field: string[] | null; message: string }> };
}

export function send(t: TestGateway, input: Record<string, unknown>, key: string | null = AGENT_KEY) {
  return t.gql<SendAnswer>(SEND, { i: input }, key);
}

/** The first conversation of a provider (on `channel` when given), through the gateway's own list. */
export async function conversationOn(t: Pick<TestGateway, 'gql'> & Partial<Pick<TestGateway, 'emulators'>>, provider: ProviderName, channel?: string): Promise<{ id: string; contactId: string | null; channel: string }> {
  // Smooch lists conversations per user only, and users only once seen: its seeded first user's.
  const seeded = t.emulators?.SMOOCH?.fixtures.contactIds[0];
  const contact = provider === 'SMOOCH' && seeded ? contactId('SMOOCH', seeded) : null;
  const res = await t.gql<{ conversations: { edges: Array<{ node: { id: string; channel: string; contactName: string | null; contact: { id: string } | null } }> } }>(
    'query($p: Provider!, $f: ConversationFilter) { conversations(provider: $p, first: 50, filter: $f) { edges { node { id channel contactName contact { id } } } } }',
    { p: provider, f: contact ? { contactId: contact } : null },
  );
  const nodes = res.data?.conversations.edges.map((e) => e.node) ?? [];
  // Texts to Lana Landline (the Podium sandbox's landline) fail by design.
  const found = nodes.find((n) => (!channel || n.channel === channel) && n.contactName !== 'Lana Landline');
  if (!found) throw new Error(`no ${provider} conversation on ${channel ?? 'any channel'}: ${JSON.stringify(res.errors ?? nodes.map((n) => n.channel))}`);
  return { id: found.id, contactId: found.contact?.id ?? null, channel: found.channel };
}

export const contactId = (provider: ProviderName, id: string): string => encodeId(provider, 'Contact', id);
export const conversationId = (provider: ProviderName, id: string): string => encodeId(provider, 'Conversation', id);
