// sendMessage: checks the input, claims the send's intent in the store before
// any upstream call (the claim on (account, idempotencyKey) is what makes a
// retried or concurrent request a replay instead of a second send), then makes
// the first attempt while the client waits, unless earlier sends of the same
// conversation still wait in the queue (order per conversation).
import { createHash, randomBytes } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import type { SendMessageInput } from '../generated/graphql.js';
import type { Channel, ProviderName } from '../model.js';
import type { MessageSender, SendTarget } from '../providers/sender.js';
import type { Dispatcher } from './dispatch.js';
import { nextSeq } from './seq.js';
import type { OutboundRecord, OutboundStore } from './types.js';
import { SendRefused, checkContent, checkKey, contactTarget, conversationTarget, lookup, recipientId, type SendUserError } from './validate.js';

export interface SendResult {
  readonly outboundMessage: OutboundRecord | null;
  readonly userErrors: readonly SendUserError[];
}

export interface SendServiceDeps {
  readonly store: OutboundStore;
  readonly dispatcher: Dispatcher;
  senderFor(provider: ProviderName, account: string): Promise<MessageSender | null>;
  readonly keyTtlMs: number;
  /** The mutation's own attempt holds the send this long before the worker may presume it interrupted. */
  readonly leaseMs: number;
  readonly now?: () => number;
}

export interface SendService {
  send(ctx: GatewayContext, input: SendMessageInput): Promise<SendResult>;
}

/** What makes two inputs "the same" for a key: everything but the key itself. */
export function inputHash(input: SendMessageInput): string {
  const shape = { to: input.to, body: input.body ?? null, subject: input.subject ?? null, attachments: (input.attachments ?? []).map((a) => a.url) };
  return createHash('sha256').update(JSON.stringify(shape)).digest('base64url');
}

/** A send the rate budget cannot take this soon is queued (QUEUED, queuedUntil) instead of holding the mutation. */
const MUTATION_BUDGET_WAIT_MS = 250;

/** One answer for unknown ids and ids of accounts the key does not reach. */
const noSuch = (input: SendMessageInput): string => (input.to.conversationId != null ? 'No such conversation' : 'No such contact');

export function createSendService(deps: SendServiceDeps): SendService {
  const now = deps.now ?? Date.now;

  function replayOf(existing: OutboundRecord, hash: string): SendResult {
    if (existing.inputHash === hash) return { outboundMessage: existing, userErrors: [] };
    const message = 'This idempotencyKey was used for another input in the last 24 hours; use a new key for a new message';
    return { outboundMessage: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message }] };
  }

  async function targetOf(ctx: GatewayContext, input: SendMessageInput, provider: ProviderName, account: string | null, providerId: string, sender: MessageSender, field: readonly string[]): Promise<SendTarget> {
    const loaders = ctx.loaders.forProvider(provider, account);
    if (input.to.conversationId != null) {
      const conversation = await lookup(field, () => loaders.conversation.load(providerId));
      if (!conversation) throw new SendRefused({ code: 'INVALID_RECIPIENT', field: ['input', ...field], message: noSuch(input) });
      checkContent(input, sender, conversation.channel, provider);
      return conversationTarget(conversation);
    }
    const channel = input.to.contact!.channel as Channel;
    const contact = await lookup(field, () => loaders.contact.load(providerId));
    if (!contact) throw new SendRefused({ code: 'INVALID_RECIPIENT', field: ['input', ...field], message: noSuch(input) });
    checkContent(input, sender, channel, provider);
    return contactTarget(contact, channel, sender, provider);
  }

  async function send(ctx: GatewayContext, input: SendMessageInput): Promise<SendResult> {
    checkKey(input.idempotencyKey);
    const { id, field } = recipientId(input);
    const refused = (message: string): SendResult => ({ outboundMessage: null, userErrors: [{ code: 'INVALID_RECIPIENT', field: ['input', ...field], message }] });
    if (!ctx.providers.has(id.provider)) return refused(`${id.provider} is not configured on this gateway`);
    const account = id.account ?? (await ctx.accountProviders.defaultAccount(id.provider).catch(() => null));
    // Another tenant's id is refused exactly like an unknown one.
    if (account === null || (ctx.scope && !ctx.scope.has(id.provider, account))) return refused(noSuch(input));
    const scope = `${id.provider}:${account}`;
    const hash = inputHash(input);
    // A replay answers from the store alone: no upstream call, not even a lookup.
    const existing = await deps.store.findByKey(scope, input.idempotencyKey);
    if (existing) return replayOf(existing, hash);
    const sender = await deps.senderFor(id.provider, account).catch(() => null);
    if (!sender) return refused(`${id.provider} cannot send for this account`);
    const target = await targetOf(ctx, input, id.provider, id.account, id.providerId, sender, field);
    const t = now();
    const record: OutboundRecord = {
      id: randomBytes(12).toString('hex'),
      provider: id.provider,
      account,
      scope,
      idempotencyKey: input.idempotencyKey,
      inputHash: hash,
      target,
      body: input.body ?? null,
      subject: input.subject || null,
      attachments: (input.attachments ?? []).map((a) => a.url),
      status: 'QUEUED',
      failureReason: null,
      messageId: null,
      conversationId: target.conversationId,
      queuedUntil: new Date(t).toISOString(),
      dueAt: t + deps.leaseMs,
      attempts: 0,
      firstAttemptAt: null,
      createdAt: new Date(t).toISOString(),
      updatedAt: new Date(t).toISOString(),
      seq: '',
      expiresAt: t + deps.keyTtlMs,
    };
    const claim = await deps.store.claim({ ...record, seq: nextSeq(t) });
    if (!claim.inserted) return replayOf(claim.record, hash);
    // Earlier sends of this conversation still queued go first; the worker sends this one after them.
    if ((await deps.store.queuedBefore(claim.record)) > 0) {
      const queued = await deps.store.update(claim.record.id, ['QUEUED'], { dueAt: t }, { dueAt: claim.record.dueAt });
      return { outboundMessage: queued ?? claim.record, userErrors: [] };
    }
    return { outboundMessage: await deps.dispatcher.attempt(claim.record, { budgetWaitMs: MUTATION_BUDGET_WAIT_MS }), userErrors: [] };
  }

  return {
    async send(ctx, input) {
      try {
        return await send(ctx, input);
      } catch (err) {
        if (err instanceof SendRefused) return { outboundMessage: null, userErrors: [err.userError] };
        throw err;
      }
    },
  };
}
