// sendMessage: checks the input, claims the send's intent in the store before
// any upstream call (the claim on (account, idempotencyKey) is what makes a
// retried or concurrent request a replay instead of a second send), then makes
// the first attempt while the client waits, unless earlier sends of the same
// conversation still wait in the queue (order per conversation).
import { createHash } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import type { SendMessageInput } from '../generated/graphql.js';
import type { Channel, ProviderName } from '../model.js';
import type { GlobalId } from '../ids.js';
import type { MessageSender, SendTarget } from '../providers/sender.js';
import type { Dispatcher } from './dispatch.js';
import { sendIdOf } from './keys.js';
import { nextSeq } from './seq.js';
import { noSuch, pendingOf, pendingTarget, rateLimitedFor, targetOf } from './recipient.js';
import type { OutboundRecord, OutboundStore, PendingRecipient } from './types.js';
import { SendRefused, checkContent, checkKey, checkNotEmpty, recipientId, type SendUserError } from './validate.js';

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
  /** How long a send may wait for budget before it fails PROVIDER_RATE_LIMITED. */
  readonly queueMaxMs: number;
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

/** The recipient's lookup waits this long for a slot before the send is queued with its recipient pending. */
const LOOKUP_BUDGET_WAIT_MS = 250;

interface Recipient {
  readonly target: SendTarget;
  /** Set when the lookup found no rate budget: the worker looks the recipient up before sending. */
  readonly pending: PendingRecipient | null;
  /** How long until the budget expects a slot (pending only). */
  readonly waitMs: number;
}

/** The recipient looked up with a send's budget priority; refused for rate limit, pending after the checks that need no upstream call. */
async function recipientOf(ctx: GatewayContext, input: SendMessageInput, id: GlobalId, sender: MessageSender, field: readonly string[]): Promise<Recipient> {
  try {
    const loaders = ctx.loaders.forProvider(id.provider, id.account);
    return { target: await targetOf(loaders, input, id.provider, id.providerId, sender, field, LOOKUP_BUDGET_WAIT_MS), pending: null, waitMs: 0 };
  } catch (err) {
    const retryAfterMs = rateLimitedFor(err);
    if (retryAfterMs === null) throw err;
    if (input.to.contact) checkContent(input, sender, input.to.contact.channel as Channel, id.provider);
    else checkNotEmpty(input);
    const pending = pendingOf(input, id.providerId, id.account);
    return { target: pendingTarget(pending), pending, waitMs: retryAfterMs };
  }
}

export function createSendService(deps: SendServiceDeps): SendService {
  const now = deps.now ?? Date.now;

  function replayOf(existing: OutboundRecord, hash: string): SendResult {
    if (existing.inputHash === hash) return { outboundMessage: existing, userErrors: [] };
    const message = 'This idempotencyKey was used for another input in the last 24 hours; use a new key for a new message';
    return { outboundMessage: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message }] };
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
    const { target, pending, waitMs } = await recipientOf(ctx, input, id, sender, field);
    const t = now();
    const record: OutboundRecord = {
      id: sendIdOf(scope, input.idempotencyKey),
      provider: id.provider,
      account,
      scope,
      idempotencyKey: input.idempotencyKey,
      inputHash: hash,
      target,
      pending,
      body: input.body ?? null,
      subject: input.subject || null,
      attachments: (input.attachments ?? []).map((a) => a.url),
      // Claimed SENDING with its first attempt counted when the mutation sends it at once: the unique claim makes this
      // request its only taker, and the lease (dueAt) lets the worker settle it if this instance dies mid-call.
      status: pending ? 'QUEUED' : 'SENDING',
      failureReason: null,
      messageId: null,
      conversationId: target.conversationId,
      queuedUntil: pending ? new Date(t + waitMs).toISOString() : null,
      dueAt: pending ? t + waitMs : t + deps.leaseMs,
      attempts: pending ? 0 : 1,
      firstAttemptAt: pending ? null : new Date(t).toISOString(),
      createdAt: new Date(t).toISOString(),
      updatedAt: new Date(t).toISOString(),
      seq: '',
      expiresAt: t + deps.keyTtlMs,
    };
    // Whether earlier sends of this conversation still wait in the queue, asked beside the claim (it only reads earlier ones).
    const [claim, earlier] = await Promise.all([deps.store.claim({ ...record, seq: nextSeq(t) }), pending ? 0 : deps.store.queuedBefore(record)]);
    if (!claim.inserted) return replayOf(claim.record, hash);
    if (pending) return { outboundMessage: await queuedPending(claim.record, waitMs), userErrors: [] };
    if (earlier > 0) {
      // They go first; the worker sends this one after them.
      const queued = await deps.store.update(claim.record.id, ['SENDING'], { status: 'QUEUED', dueAt: t, queuedUntil: new Date(t).toISOString(), attempts: 0, firstAttemptAt: null }, { dueAt: claim.record.dueAt });
      return { outboundMessage: queued ?? claim.record, userErrors: [] };
    }
    return { outboundMessage: await deps.dispatcher.sendClaimed(claim.record, { budgetWaitMs: MUTATION_BUDGET_WAIT_MS }), userErrors: [] };
  }

  /** A send claimed with its recipient pending: queued for the lookup, or failed when no budget comes within the bound. */
  async function queuedPending(record: OutboundRecord, waitMs: number): Promise<OutboundRecord> {
    if (waitMs <= deps.queueMaxMs) return record;
    const reason = `PROVIDER_RATE_LIMITED: no rate budget within ${Math.round(deps.queueMaxMs / 1000)} s`;
    return (await deps.store.update(record.id, ['QUEUED'], { status: 'FAILED', failureReason: reason, dueAt: null, queuedUntil: null })) ?? record;
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
