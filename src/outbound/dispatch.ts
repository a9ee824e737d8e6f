// One upstream attempt of a send, under a lease, and what its outcome does to
// the record. The exactly-once rule lives here: an attempt that may have
// reached the provider (timeout, 5xx, a crash mid-call) is never repeated
// before `findSent` says the provider does not have it.
import type { Logger } from 'pino';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { MessageSender, OutgoingMessage, SendOptions, SentMessage } from '../providers/sender.js';
import type { Loaders } from '../loaders.js';
import type { OutboundBus } from './bus.js';
import { resolvePending } from './recipient.js';
import { earliestAnnounced } from './observe.js';
import { canMove, movableFrom } from './state.js';
import type { OutboundPatch, OutboundRecord, OutboundStatus, OutboundStore } from './types.js';

export interface DispatchDeps {
  readonly store: OutboundStore;
  readonly bus: OutboundBus;
  readonly logger: Logger;
  /** The sender of one account (`env` or a stored account's id); null when it cannot send. */
  senderFor(provider: ProviderName, account: string): Promise<MessageSender | null>;
  /** Drops the conversation's cached messages and list pages. */
  invalidate(record: OutboundRecord): Promise<void>;
  /** Counts outcomes (metrics). */
  onOutcome?(provider: ProviderName, outcome: string): void;
  /** How long a send may wait for budget before it fails PROVIDER_RATE_LIMITED. */
  readonly queueMaxMs: number;
  /** How long an attempt holds its send before another worker presumes it interrupted. */
  readonly leaseMs: number;
  /** Fresh loaders over the gateway's accounts, to look up a recipient the mutation left pending. */
  loaders?(): Loaders;
  readonly now?: () => number;
}

export interface Dispatcher {
  /** Makes (or settles) one attempt; answers the record as it stands afterwards. */
  attempt(record: OutboundRecord, options?: SendOptions): Promise<OutboundRecord>;
  /**
   * Sends a record claimed SENDING with its first attempt counted: the claim's
   * unique insert already made this caller its only taker, so no attempt is
   * taken and no lease written before the upstream call.
   */
  sendClaimed(record: OutboundRecord, options?: SendOptions): Promise<OutboundRecord>;
  /** Moves a record forward to `to` when the lifecycle allows it (webhooks). */
  advance(record: OutboundRecord, to: OutboundStatus, reason: string | null): Promise<OutboundRecord>;
}

/** A retry after a failure that may have reached the provider waits at least this long. */
const RETRY_MS = 2_000;

const outgoing = (r: OutboundRecord): OutgoingMessage => ({ outboundId: r.id, body: r.body, subject: r.subject, attachments: r.attachments });

export function createDispatcher(deps: DispatchDeps): Dispatcher {
  const now = deps.now ?? Date.now;
  const iso = (ms: number): string => new Date(ms).toISOString();

  async function changed(before: OutboundRecord, after: OutboundRecord | null): Promise<OutboundRecord> {
    if (!after) return (await deps.store.get(before.id)) ?? before;
    if (after.status !== before.status) {
      deps.onOutcome?.(after.provider, after.status);
      // Not awaited: publishes leave in order on one connection, and the store is the log a subscriber resumes from.
      void deps.bus.publish(after).catch((err: unknown) => deps.logger.warn({ err, outbound: after.id }, 'outbound update not published; subscribers resume from the store'));
    }
    return after;
  }

  async function move(record: OutboundRecord, from: readonly OutboundStatus[], patch: OutboundPatch): Promise<OutboundRecord> {
    return changed(record, await deps.store.update(record.id, from, patch));
  }

  async function advance(record: OutboundRecord, to: OutboundStatus, reason: string | null): Promise<OutboundRecord> {
    if (!canMove(record.status, to)) return record;
    const patch: OutboundPatch = { status: to, dueAt: null, queuedUntil: null, ...(to === 'FAILED' ? { failureReason: reason } : {}) };
    return move(record, movableFrom(to), patch);
  }

  async function sent(record: OutboundRecord, res: SentMessage): Promise<OutboundRecord> {
    const conversationId = res.conversationId ?? record.target.conversationId;
    const [moved] = await Promise.all([
      move(record, ['QUEUED', 'SENDING', 'UNCERTAIN'], { status: 'SENT', messageId: res.messageId, conversationId, dueAt: null, queuedUntil: null, failureReason: null }),
      deps.invalidate({ ...record, conversationId }).catch((err: unknown) => deps.logger.warn({ err, outbound: record.id }, 'cache not invalidated after a send')),
    ]);
    let current = moved;
    // Webhooks about this message that came before its answer (read after the write that names the message: observe.ts).
    const early = await deps.store.observations(current.provider, current.account, res.messageId);
    for (const o of early) current = await advance(current, o.status, o.failureReason);
    // A messageSent published before this answer is the send's one announcement (observe.ts).
    const announced = earliestAnnounced(early);
    if (announced) await deps.store.announce(current, announced);
    return current;
  }

  async function failed(record: OutboundRecord, err: unknown): Promise<OutboundRecord> {
    const patch = failurePatch(record, err, now(), deps.queueMaxMs);
    if (patch.status === 'SENDING') {
      deps.logger.warn({ outbound: record.id, reason: reasonOf(err) }, 'send interrupted; it is looked up at the provider before any retry');
    }
    return changed(record, await deps.store.update(record.id, ['SENDING'], patch));
  }

  const { settle, resolve } = recoveryOps(deps, { move, sent, changed });

  async function attempt(record: OutboundRecord, options: SendOptions = {}): Promise<OutboundRecord> {
    const sender = await deps.senderFor(record.provider, record.account);
    if (!sender) return move(record, ['QUEUED', 'SENDING'], { status: 'FAILED', failureReason: 'The account can no longer send', dueAt: null });
    // Whoever takes this attempt alone settles or sends it; the guarded updates below do not exclude each other on FerretDB.
    // A taker that died before moving the send frees it a lease later.
    if (!(await deps.store.takeAttempt(record, deps.leaseMs))) return (await deps.store.get(record.id)) ?? record;
    let settled: OutboundRecord | null;
    try {
      if (record.pending) {
        const resolved = await resolve(record, sender, options);
        // Still pending, failed, or requeued for budget: nothing to send this time.
        if (resolved.pending || resolved.status !== 'QUEUED' || resolved.dueAt !== record.dueAt) return resolved;
        record = resolved;
      }
      settled = await settle(record, sender);
    } catch (err) {
      return lookupFailed(record, err);
    }
    if (settled) return settled;
    const t = now();
    const lease = { status: 'SENDING' as const, dueAt: t + deps.leaseMs, attempts: record.attempts + 1, firstAttemptAt: record.firstAttemptAt ?? iso(t), queuedUntil: null };
    const leased = await deps.store.update(record.id, ['QUEUED', 'SENDING'], lease, { dueAt: record.dueAt });
    if (!leased) return (await deps.store.get(record.id)) ?? record;
    await changed(record, leased);
    return sendLeased(leased, sender, options);
  }

  /** A lookup before the attempt (recipient, or an earlier attempt at the provider) failed: retried, within the send bound. */
  async function lookupFailed(record: OutboundRecord, err: unknown): Promise<OutboundRecord> {
    if (now() - Date.parse(record.createdAt) < deps.queueMaxMs) {
      deps.logger.warn({ err, outbound: record.id }, 'send could not be looked up; trying later');
      return changed(record, await deps.store.update(record.id, ['SENDING', 'QUEUED'], { dueAt: now() + RETRY_MS }, { dueAt: record.dueAt }));
    }
    // Past the bound: never attempted, it failed; attempted, the provider may have it and nothing can tell.
    const patch: OutboundPatch =
      record.attempts === 0
        ? { status: 'FAILED', failureReason: `The recipient could not be looked up within the send bound (${reasonOf(err)})` }
        : { status: 'UNCERTAIN', failureReason: `Interrupted after the provider may have taken it, and the provider could not be asked within the send bound (${reasonOf(err)})` };
    return move(record, ['SENDING', 'QUEUED'], { ...patch, dueAt: null, queuedUntil: null });
  }

  async function sendLeased(leased: OutboundRecord, sender: MessageSender, options: SendOptions): Promise<OutboundRecord> {
    try {
      return await sent(leased, await sender.send(leased.target, outgoing(leased), options));
    } catch (err) {
      return failed(leased, err);
    }
  }

  async function sendClaimed(record: OutboundRecord, options: SendOptions = {}): Promise<OutboundRecord> {
    const sender = await deps.senderFor(record.provider, record.account);
    if (!sender) return move(record, ['SENDING'], { status: 'FAILED', failureReason: 'The account can no longer send', dueAt: null });
    // Its first change published: subscribers by filter see SENDING, as for a send the worker leases.
    await changed({ ...record, status: 'QUEUED' }, record);
    return sendLeased(record, sender, options);
  }

  return { attempt, sendClaimed, advance };
}

interface RecordOps {
  move(record: OutboundRecord, from: readonly OutboundStatus[], patch: OutboundPatch): Promise<OutboundRecord>;
  sent(record: OutboundRecord, res: SentMessage): Promise<OutboundRecord>;
  changed(before: OutboundRecord, after: OutboundRecord | null): Promise<OutboundRecord>;
}

/** What an attempt does before it sends: settle an earlier attempt from the provider, look up a pending recipient. */
function recoveryOps(deps: DispatchDeps, ops: RecordOps) {
  const { move, sent, changed } = ops;
  const now = deps.now ?? Date.now;
  const iso = (ms: number): string => new Date(ms).toISOString();

  /** An earlier attempt may have reached the provider: settle it from what the provider has. Null: send again. */
  async function settle(record: OutboundRecord, sender: MessageSender): Promise<OutboundRecord | null> {
    if (record.attempts === 0 || !record.firstAttemptAt) return null;
    const found = await sender.findSent(record.target, outgoing(record), record.firstAttemptAt);
    if (found === 'unknown') {
      return move(record, ['SENDING', 'QUEUED'], { status: 'UNCERTAIN', failureReason: 'Interrupted after the provider may have taken it; the provider offers no way to tell', dueAt: null });
    }
    if (found) return sent(record, found);
    if (now() - Date.parse(record.createdAt) >= deps.queueMaxMs) {
      return move(record, ['SENDING', 'QUEUED'], { status: 'FAILED', failureReason: 'The provider did not take it within the send bound', dueAt: null });
    }
    return null;
  }

  /** Looks up a recipient the mutation left pending: the record with its target, or as the lookup left it (FAILED, or requeued for budget). */
  async function resolve(record: OutboundRecord, sender: MessageSender, options: SendOptions): Promise<OutboundRecord> {
    if (!deps.loaders) throw new Error('Expected loaders to look up a pending recipient, got none');
    const loaders = deps.loaders().forProvider(record.provider, record.pending!.idAccount);
    const found = await resolvePending(record, loaders, sender, options.budgetWaitMs ?? RETRY_MS);
    if ('target' in found) {
      const patch = { target: found.target, pending: null, conversationId: found.target.conversationId };
      return (await deps.store.update(record.id, ['QUEUED'], patch, { dueAt: record.dueAt })) ?? record;
    }
    if ('failed' in found) return move(record, ['QUEUED'], { status: 'FAILED', failureReason: found.failed, dueAt: null, queuedUntil: null });
    const at = now() + found.retryAfterMs;
    if (at - Date.parse(record.createdAt) > deps.queueMaxMs) {
      const reason = `PROVIDER_RATE_LIMITED: no rate budget within ${Math.round(deps.queueMaxMs / 1000)} s to look up the recipient`;
      return move(record, ['QUEUED'], { status: 'FAILED', failureReason: reason, dueAt: null, queuedUntil: null });
    }
    return changed(record, await deps.store.update(record.id, ['QUEUED'], { queuedUntil: iso(at), dueAt: at }, { dueAt: record.dueAt }));
  }

  return { settle, resolve };
}

function reasonOf(err: unknown): string {
  return err instanceof ProviderError ? `${err.message}${err.detail ? `: ${err.detail}` : ''}` : String(err);
}

/**
 * What a failed attempt does to its send. A 429 or a spent budget took nothing:
 * queue it for its slot (or fail it when that is past the bound). A refusal is
 * final. A timeout, 5xx or unreadable answer may have reached the provider: it
 * stays SENDING and is looked up before any retry, after the provider's Retry-After.
 */
export function failurePatch(record: OutboundRecord, err: unknown, t: number, queueMaxMs: number): OutboundPatch {
  const provider = err instanceof ProviderError ? err : null;
  const reason = reasonOf(err);
  if (provider?.failure === 'RATE_LIMITED') {
    const attempts = record.attempts - 1;
    const undo = { attempts, firstAttemptAt: attempts > 0 ? record.firstAttemptAt : null };
    const at = t + Math.max(provider.retryAfterMs ?? 1_000, 100);
    if (at - Date.parse(record.createdAt) > queueMaxMs) {
      return { ...undo, status: 'FAILED', failureReason: `PROVIDER_RATE_LIMITED: no rate budget within ${Math.round(queueMaxMs / 1000)} s (${reason})`, dueAt: null };
    }
    return { ...undo, status: 'QUEUED', queuedUntil: new Date(at).toISOString(), dueAt: at };
  }
  if (provider?.failure === 'BAD_REQUEST' || provider?.failure === 'NOT_FOUND') return { status: 'FAILED', failureReason: reason, dueAt: null };
  if (provider?.failure === 'UNAUTHORIZED') return { status: 'FAILED', failureReason: `ACCOUNT_NEEDS_RECONNECTION: ${reason}`, dueAt: null };
  return { status: 'SENDING', dueAt: t + Math.max(provider?.retryAfterMs ?? 0, RETRY_MS * record.attempts) };
}
