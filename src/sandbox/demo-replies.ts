// The demo's agent: now and then it answers a message the demo made a contact
// send, through the running gateway's public sendMessage (an agent or admin key
// from GATEWAY_API_KEYS, or none in development without keys), so the console
// and outboundMessageUpdated show whole lifecycles: QUEUED/SENDING, SENT, then
// DELIVERED from the provider's webhooks. Every few replies it texts Podium's
// Lana Landline instead, whose landline makes the send end FAILED "landline".
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { Logger } from 'pino';
import type { Role } from '../config.js';
import { encodeId } from '../ids.js';
import type { ProviderName } from '../model.js';
import { LANA_LANDLINE } from './podium/index.js';

export interface DemoReplies {
  /** Replies in the conversation of a message a contact just sent (of the provider's environment account). */
  replyTo(provider: ProviderName, conversationId: string): void;
  /**
   * Stops replying and aborts the replies in flight, so none of their
   * keep-alive connections to the gateway outlives the demo (a connection that
   * turns idle while the gateway closes would hold its close for the keep-alive timeout).
   */
  stop(): void;
}

export interface DemoRepliesOptions {
  /** The gateway's base URL (where the emulators deliver their webhooks). */
  readonly gatewayUrl: string;
  /** The gateway's configured keys: the demo sends with an agent's (or an admin's); none configured means open development. */
  readonly apiKeys: ReadonlyMap<string, Role>;
  readonly logger: Logger;
  /** Every this many replies, one goes to Lana Landline (Podium) and fails. @default 4 */
  readonly landlineEvery?: number;
}

const SEND = `mutation DemoReply($input: SendMessageInput!) {
  sendMessage(input: $input) { outboundMessage { id status failureReason } userErrors { code message } }
}`;
const CONTACT_OF = `query DemoContactOf($id: ID!) { conversation(id: $id) { contact { id } } }`;
const LANA = `query DemoLana { contacts(provider: PODIUM, first: 100) { edges { node { id name } } } }`;
const REPLIES = ['Thanks, we got your message!', 'We will call you back shortly.', 'Your appointment is confirmed.', 'See you tomorrow at 9.'];
/** A reply that takes longer is given up on (the demo goes on; the send itself still completes). */
const TIMEOUT_MS = 10_000;

type GraphQLAnswer<T> = { data?: T; errors?: Array<{ message: string }> };

/** The key the demo sends with: an agent's first, else an admin's; null when none is configured (every caller is admin). */
export function demoKey(apiKeys: ReadonlyMap<string, Role>): string | null | 'none' {
  if (apiKeys.size === 0) return null;
  const entries = [...apiKeys.entries()];
  return (entries.find(([, role]) => role === 'agent') ?? entries.find(([, role]) => role === 'admin'))?.[0] ?? 'none';
}

export function createDemoReplies(options: DemoRepliesOptions): DemoReplies {
  const { logger } = options;
  const key = demoKey(options.apiKeys);
  const landlineEvery = options.landlineEvery ?? 4;
  let count = 0;
  let lana: Promise<string | null> | null = null;
  const stopped = new AbortController();
  if (key === 'none') logger.warn('demo replies are off: GATEWAY_API_KEYS has no agent or admin key to send with');

  async function post<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer<T>> {
    stopped.signal.throwIfAborted();
    const body = JSON.stringify({ query, variables });
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...(key && key !== 'none' ? { authorization: `Bearer ${key}` } : {}) };
    // One connection per reply, closed after it (agent: false): a pooled keep-alive connection, even one
    // opened and never used, would hold the gateway's close until its headers timeout.
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${options.gatewayUrl}/graphql`, { method: 'POST', headers, agent: false, signal: AbortSignal.any([stopped.signal, AbortSignal.timeout(TIMEOUT_MS)]) }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve(data));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    return JSON.parse(text) as GraphQLAnswer<T>;
  }

  /** Lana's contact id, looked up once through the gateway like any client would. */
  function lanaId(): Promise<string | null> {
    lana ??= post<{ contacts: { edges: Array<{ node: { id: string; name: string | null } }> } }>(LANA).then(
      (a) => a.data?.contacts.edges.find((e) => e.node.name === LANA_LANDLINE.name)?.node.id ?? null,
      () => null,
    );
    return lana;
  }

  type Payload = { outboundMessage: { id: string; status: string; failureReason: string | null } | null; userErrors: Array<{ code: string; message: string }> };

  /** Sends one reply; answers the user error's code when refused. */
  async function send(provider: ProviderName, to: Record<string, unknown>, body: string): Promise<string | null> {
    const idempotencyKey = `demo-${randomUUID()}`;
    const answer = await post<{ sendMessage: Payload }>(SEND, { input: { to, body, idempotencyKey } });
    const payload = answer.data?.sendMessage;
    if (!payload || payload.userErrors.length > 0) {
      const code = payload?.userErrors[0]?.code ?? null;
      if (code !== 'CHANNEL_UNSUPPORTED') logger.warn({ provider, idempotencyKey, errors: answer.errors ?? payload?.userErrors }, 'demo reply refused');
      return code ?? 'ERROR';
    }
    logger.info({ provider, outboundMessage: payload.outboundMessage, idempotencyKey }, 'demo reply sent through sendMessage');
    return null;
  }

  /** A reply in the conversation; where its channel cannot be sent on (Podium's web chat, Google), a text to its contact instead. */
  async function replyIn(provider: ProviderName, conversationId: string, text: string): Promise<void> {
    const id = encodeId(provider, 'Conversation', conversationId);
    if ((await send(provider, { conversationId: id }, text)) !== 'CHANNEL_UNSUPPORTED') return;
    const found = await post<{ conversation: { contact: { id: string } | null } | null }>(CONTACT_OF, { id });
    const contactId = found.data?.conversation?.contact?.id;
    if (contactId) await send(provider, { contact: { contactId, channel: 'SMS' } }, text);
  }

  return {
    replyTo(provider, conversationId) {
      if (key === 'none' || stopped.signal.aborted) return;
      const n = count++;
      const text = REPLIES[n % REPLIES.length] ?? 'Thanks!';
      const landline = n % landlineEvery === landlineEvery - 1;
      const reply = async (): Promise<void> => {
        const lanaContact = landline ? await lanaId() : null;
        if (lanaContact) return void (await send('PODIUM', { contact: { contactId: lanaContact, channel: 'SMS' } }, `Hi Lana, ${text.toLowerCase()}`));
        return replyIn(provider, conversationId, text);
      };
      reply().catch((err: unknown) => {
        if (!stopped.signal.aborted) logger.warn({ err, provider }, 'demo reply failed');
      });
    },
    stop() {
      stopped.abort();
    },
  };
}
