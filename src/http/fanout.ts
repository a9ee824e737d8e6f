// Shared live subscriptions for graphql-ws. Subscribers whose operations are
// identical (same key role, document text, operation name and variables) and
// that do not resume from a cursor share one event stream: each event is
// executed once and serialized once for the whole group, and only the framing
// (the subscription id) is per socket. Sockets are written in chunks with a
// turn of the event loop in between, so a fan-out to thousands of sockets never
// holds webhooks and health checks behind it. A socket whose client does not
// read (more than maxSocketBuffer bytes queued) is closed with 4008 and
// counted; the others are not held back. Frames go out through ws's public
// `send`, which frames, queues and compresses as the connection requires.
//
// Subscriptions with `after` replay from the store on their own stream
// (events/stream.ts) and go through graphql-ws as usual.
import { Gauge, type Registry } from 'prom-client';
import { type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';

/** Close code for a subscriber that does not read its events (graphql-ws uses 4400-4499; 4008 mirrors 1008 policy violation). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 4008;
/** Sockets written per turn of the event loop. */
const SOCKETS_PER_TURN = 256;
/** A slow socket's close frame waits behind what it did not read: it is cut after this grace. */
const SLOW_CLOSE_GRACE_MS = 2_000;
/** ws.send's options for an event: a text frame (made once, not per socket). */
const TEXT_FRAME = { binary: false } as const;

export interface SharedMember {
  readonly socket: WebSocket;
  /** The graphql-ws subscription id on that socket. */
  readonly id: string;
}

interface Member extends SharedMember {
  /** `{"id":<id>,"type":"next","payload":` for this member. */
  readonly prefix: Buffer;
  finish(result: IteratorResult<ExecutionResult>): void;
  fail(error: unknown): void;
}

type Opened = { readonly source: AsyncIterator<ExecutionResult> } | { readonly result: ExecutionResult };

interface Group {
  readonly key: string;
  readonly members: Set<Member>;
  /** Settles once the shared stream is open, or with the result no stream came from (an error). */
  readonly ready: Promise<Opened>;
  closed: boolean;
}

export interface SharedSubscriptionsOptions {
  readonly format: (result: ExecutionResult) => FormattedExecutionResult;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Counts a subscriber closed for not reading. */
  readonly onSlow: () => void;
  /** Bytes queued on a socket past which its client counts as not reading (GATEWAY_WS_MAX_BUFFERED_BYTES). */
  readonly maxSocketBuffer: number;
  /** Opens a group's one stream (graphql/subscribe.ts: every event with a context of its own). */
  readonly subscribe: (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

export interface SharedSubscriptions {
  /**
   * graphql-ws's `subscribe` for a shareable operation: joins the group of `key`,
   * opening its stream with `open()` (the only member that needs a context) when
   * there is none. Resolves with the member's iterator, or with the result every
   * member gets when the stream could not be opened.
   */
  join(key: string, member: SharedMember, open: () => ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  /** Ends every group (their members complete). */
  close(): void;
}

/**
 * The sharing key of a subscription operation, or null when it must have a
 * stream of its own (it resumes from a cursor: `after` set by literal or variable).
 */
export function shareKey(role: string, operation: OperationDefinitionNode, query: string, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | null | undefined): string | null {
  if (operation.operation !== 'subscription') return null;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== 'Field') return null;
    for (const arg of selection.arguments ?? []) {
      if (arg.name.value !== 'after') continue;
      if (arg.value.kind === 'NullValue') continue;
      if (arg.value.kind === 'Variable' && variables?.[arg.value.name.value] == null) continue;
      return null;
    }
  }
  return JSON.stringify([role, operationName ?? null, query, variables ?? {}]);
}

/** The groups of one gateway and their gauges: what joining, leaving and ending share. */
interface Book {
  readonly groups: Map<string, Group>;
  readonly groupGauge: Gauge;
  readonly memberGauge: Gauge;
}

export function createSharedSubscriptions(options: SharedSubscriptionsOptions): SharedSubscriptions {
  const book: Book = {
    groups: new Map(),
    groupGauge: new Gauge({ name: 'gateway_subscription_groups', help: 'Shared live streams: subscribers of identical operations share one (executed and serialized once per event)', registers: [options.registry] }),
    memberGauge: new Gauge({ name: 'gateway_subscription_group_members', help: 'Subscribers served by a shared live stream', registers: [options.registry] }),
  };

  async function pump(group: Group, source: AsyncIterator<ExecutionResult>): Promise<void> {
    try {
      for (;;) {
        const next = await source.next();
        if (next.done || group.closed) break;
        await broadcast(book, group, Buffer.from(JSON.stringify(options.format(next.value)) + '}'), options);
      }
      end(book, group, {});
    } catch (error) {
      end(book, group, { error });
    }
  }

  function open(key: string, args: ExecutionArgs): Group {
    const group: Group = {
      key,
      members: new Set(),
      closed: false,
      ready: options.subscribe(args).then((result): Opened => {
        if (!(Symbol.asyncIterator in result)) return { result };
        const source = result[Symbol.asyncIterator]();
        if (group.closed) void source.return?.();
        else void pump(group, source);
        return { source };
      }),
    };
    book.groups.set(key, group);
    book.groupGauge.inc();
    return group;
  }

  return {
    async join(key, member, openArgs) {
      let group = book.groups.get(key);
      if (!group || group.closed) group = open(key, openArgs());
      const iterator = memberIterator(book, group, member);
      const opened = await group.ready;
      if ('result' in opened) {
        // The subscribe resolver refused (a bad filter id, the store down): every member gets that answer.
        await iterator.return?.();
        return opened.result;
      }
      return iterator;
    },
    close() {
      for (const group of [...book.groups.values()]) end(book, group, {});
    },
  };
}

function closeGroup(book: Book, group: Group): void {
  if (group.closed) return;
  group.closed = true;
  if (book.groups.get(group.key) === group) book.groups.delete(group.key);
  book.groupGauge.dec();
}

function leave(book: Book, group: Group, member: Member): void {
  if (!group.members.delete(member)) return;
  book.memberGauge.dec();
  if (group.members.size === 0 && !group.closed) {
    closeGroup(book, group);
    void group.ready.then((opened) => ('source' in opened ? opened.source.return?.() : undefined)).catch(() => undefined);
  }
}

function end(book: Book, group: Group, how: { error?: unknown }): void {
  closeGroup(book, group);
  for (const member of [...group.members]) {
    group.members.delete(member);
    book.memberGauge.dec();
    if (how.error !== undefined) member.fail(how.error);
    else member.finish({ value: undefined, done: true });
  }
}

/** Writes one event (`payload`, the formatted result and the frame's closing brace) to every member, a chunk per turn of the event loop. */
async function broadcast(book: Book, group: Group, payload: Buffer, options: SharedSubscriptionsOptions): Promise<void> {
  let chunk: Member[] = [];
  for (const member of group.members) {
    const { socket } = member;
    if (socket.readyState !== 1) continue; // not OPEN: graphql-ws completes it on close
    if (socket.bufferedAmount > options.maxSocketBuffer) {
      dropSlow(book, group, member, options);
      continue;
    }
    chunk.push(member);
    if (chunk.length === SOCKETS_PER_TURN) {
      sendChunk(chunk, payload);
      chunk = [];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  sendChunk(chunk, payload);
}

/**
 * One allocation for the frames of a chunk of members: each member's frame is
 * its prefix (the id) followed by the group's payload, a view into the slab, so
 * no socket gets memory of its own. The slab is never reused: a socket that
 * could not take its frame at once keeps the view queued.
 */
function sendChunk(chunk: readonly Member[], payload: Buffer): void {
  if (chunk.length === 0) return;
  let total = 0;
  for (const member of chunk) total += member.prefix.length + payload.length;
  const slab = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (const member of chunk) {
    const start = offset;
    offset += member.prefix.copy(slab, offset);
    offset += payload.copy(slab, offset);
    member.socket.send(slab.subarray(start, offset), TEXT_FRAME);
  }
}

function dropSlow(book: Book, group: Group, member: Member, options: SharedSubscriptionsOptions): void {
  const { socket } = member;
  options.onSlow();
  options.logger.warn({ buffered: socket.bufferedAmount }, 'subscriber too slow: socket closed');
  leave(book, group, member);
  socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'subscriber too slow; resubscribe with the last cursor received as after');
  setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS).unref();
}

/**
 * Adds a member to the group and returns what graphql-ws iterates for it.
 * Events are written by the group; graphql-ws only waits on this iterator to
 * learn that the stream ended.
 */
function memberIterator(book: Book, group: Group, shared: SharedMember): AsyncIterableIterator<ExecutionResult> {
  let settle: ((r: IteratorResult<ExecutionResult>) => void) | null = null;
  let reject: ((e: unknown) => void) | null = null;
  let outcome: { result?: IteratorResult<ExecutionResult>; error?: unknown } | null = null;
  const member: Member = {
    socket: shared.socket,
    id: shared.id,
    prefix: Buffer.from(`{"id":${JSON.stringify(shared.id)},"type":"next","payload":`),
    finish(result) {
      outcome = { result };
      settle?.(result);
    },
    fail(error) {
      outcome = { error };
      reject?.(error);
    },
  };
  group.members.add(member);
  book.memberGauge.inc();
  return {
    next() {
      if (outcome) return outcome.result ? Promise.resolve(outcome.result) : Promise.reject(outcome.error);
      return new Promise((resolve, rej) => {
        settle = resolve;
        reject = rej;
      });
    },
    return() {
      leave(book, group, member);
      const done = { value: undefined, done: true } as const;
      settle?.(done);
      return Promise.resolve(done);
    },
    throw(error: unknown) {
      leave(book, group, member);
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
