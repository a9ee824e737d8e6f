// Shared live subscriptions for graphql-ws. Subscribers whose operations are
// identical (same key role, document text, operation name and variables) and
// that do not resume from a cursor share one event stream: each event is
// executed once and serialized once for the whole group, and only the framing
// (the subscription id) is per socket. Sockets are written in chunks with a
// turn of the event loop in between, so a fan-out to thousands of sockets never
// holds webhooks and health checks behind it. A socket whose client does not
// read (more than maxSocketBuffer bytes queued) is closed with 4008 and
// counted; the others are not held back.
//
// Subscriptions with `after` replay from the store on their own stream
// (events/stream.ts) and go through graphql-ws as usual.
import { Gauge, type Registry } from 'prom-client';
import { subscribe, type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';

/** Close code for a subscriber that does not read its events (graphql-ws uses 4400-4499; 4008 mirrors 1008 policy violation). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 4008;
/** Sockets written per turn of the event loop. */
const SOCKETS_PER_TURN = 256;
/** A slow socket's close frame waits behind what it did not read: it is cut after this grace. */
const SLOW_CLOSE_GRACE_MS = 2_000;

export interface SharedMember {
  readonly socket: WebSocket;
  /** The graphql-ws subscription id on that socket. */
  readonly id: string;
  /** The execution context, made only if this member opens the group's stream. */
  readonly context: () => unknown;
}

interface Member extends SharedMember {
  /** `{"id":<id>,"type":"next","payload":` for this member. */
  readonly prefix: Buffer;
  finish(result: IteratorResult<ExecutionResult>): void;
  fail(error: unknown): void;
}

interface Group {
  readonly key: string;
  readonly members: Set<Member>;
  /** Settles once the shared stream is open, or with the result no stream came from (an error). */
  readonly ready: Promise<{ readonly source: AsyncIterator<ExecutionResult> } | { readonly result: ExecutionResult }>;
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
}

export interface SharedSubscriptions {
  /**
   * Marks `args` (what onSubscribe answers) as shareable under `key` for this
   * member; `subscribe` then joins it to its group instead of opening a stream.
   */
  register(args: ExecutionArgs, key: string, member: SharedMember): void;
  /** graphql-ws's `subscribe`: shared for registered args, graphql's own otherwise. */
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
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

export function createSharedSubscriptions(options: SharedSubscriptionsOptions): SharedSubscriptions {
  const { format, logger } = options;
  const pending = new WeakMap<ExecutionArgs, { key: string; member: SharedMember }>();
  const groups = new Map<string, Group>();
  const groupGauge = new Gauge({ name: 'gateway_subscription_groups', help: 'Shared live streams: subscribers of identical operations share one (executed and serialized once per event)', registers: [options.registry] });
  const memberGauge = new Gauge({ name: 'gateway_subscription_group_members', help: 'Subscribers served by a shared live stream', registers: [options.registry] });

  function leave(group: Group, member: Member): void {
    if (!group.members.delete(member)) return;
    memberGauge.dec();
    if (group.members.size === 0 && !group.closed) {
      group.closed = true;
      if (groups.get(group.key) === group) groups.delete(group.key);
      groupGauge.dec();
      void group.ready.then((opened) => ('source' in opened ? opened.source.return?.() : undefined)).catch(() => undefined);
    }
  }

  function end(group: Group, how: { error?: unknown }): void {
    if (!group.closed) {
      group.closed = true;
      if (groups.get(group.key) === group) groups.delete(group.key);
      groupGauge.dec();
    }
    for (const member of [...group.members]) {
      group.members.delete(member);
      memberGauge.dec();
      if (how.error !== undefined) member.fail(how.error);
      else member.finish({ value: undefined, done: true });
    }
  }

  /** Writes one event to every member, a chunk per turn of the event loop. */
  async function broadcast(group: Group, payloadText: string): Promise<void> {
    const payload = Buffer.from(payloadText + '}');
    let written = 0;
    for (const member of group.members) {
      const { socket } = member;
      if (socket.readyState !== 1) continue; // not OPEN: graphql-ws completes it on close
      if (socket.bufferedAmount > options.maxSocketBuffer) {
        options.onSlow();
        logger.warn({ buffered: socket.bufferedAmount }, 'subscriber too slow: socket closed');
        leave(group, member);
        socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'subscriber too slow; resubscribe with the last cursor received as after');
        setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS).unref();
        continue;
      }
      writeText(socket, member, payload);
      if (++written % SOCKETS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async function pump(group: Group, source: AsyncIterator<ExecutionResult>): Promise<void> {
    try {
      for (;;) {
        const next = await source.next();
        if (next.done || group.closed) break;
        await broadcast(group, JSON.stringify(format(next.value)));
      }
      end(group, {});
    } catch (error) {
      end(group, { error });
    }
  }

  function open(key: string, args: ExecutionArgs): Group {
    const group: Group = {
      key,
      members: new Set(),
      closed: false,
      ready: Promise.resolve(subscribe(args)).then((result) => {
        if (!(Symbol.asyncIterator in result)) return { result };
        const source = result[Symbol.asyncIterator]();
        if (group.closed) void source.return?.();
        else void pump(group, source);
        return { source };
      }),
    };
    groups.set(key, group);
    groupGauge.inc();
    return group;
  }

  function join(group: Group, shared: SharedMember): AsyncIterableIterator<ExecutionResult> {
    let settle: ((r: IteratorResult<ExecutionResult>) => void) | null = null;
    let reject: ((e: unknown) => void) | null = null;
    let outcome: { result?: IteratorResult<ExecutionResult>; error?: unknown } | null = null;
    const member: Member = {
      ...shared,
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
    memberGauge.inc();
    // Events are written by the group; graphql-ws only waits on this iterator to learn that the stream ended.
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next() {
        if (outcome) return outcome.result ? Promise.resolve(outcome.result) : Promise.reject(outcome.error);
        return new Promise((resolve, rej) => {
          settle = resolve;
          reject = rej;
        });
      },
      return() {
        leave(group, member);
        const done = { value: undefined, done: true } as const;
        settle?.(done);
        return Promise.resolve(done);
      },
      throw(error: unknown) {
        leave(group, member);
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  }

  return {
    register(args, key, member) {
      pending.set(args, { key, member });
    },
    async subscribe(args) {
      const registered = pending.get(args);
      if (!registered) return subscribe(args) as Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
      pending.delete(args);
      let group = groups.get(registered.key);
      if (!group || group.closed) group = open(registered.key, { ...args, contextValue: registered.member.context() });
      const iterator = join(group, registered.member);
      const opened = await group.ready;
      if ('result' in opened) {
        // The subscribe resolver refused (a bad filter id, the store down): every member gets that answer.
        await iterator.return?.();
        return opened.result;
      }
      return iterator;
    },
    close() {
      for (const group of [...groups.values()]) end(group, {});
    },
  };
}

/** What of ws's internals a direct frame write relies on (ws 8: server frames are unmasked; no queue unless compressing). */
interface WsInternals {
  readonly _socket?: import('node:net').Socket;
  readonly _sender?: { readonly _state?: number };
  readonly _extensions?: Readonly<Record<string, unknown>>;
}

/**
 * Writes one text frame `prefix + payload` to the socket. The payload bytes
 * are shared by every member; only the frame header and the prefix are made
 * per socket, and the frame goes out in one write. When ws could have
 * anything queued (compression negotiated, or its sender busy), ws frames it.
 */
function writeText(socket: WebSocket, member: Member, payload: Buffer): void {
  const ws = socket as unknown as WsInternals;
  const raw = ws._socket;
  if (!raw || ws._sender?._state !== 0 || (ws._extensions && 'permessage-deflate' in ws._extensions)) {
    socket.send(Buffer.concat([member.prefix, payload]), { binary: false });
    return;
  }
  const length = member.prefix.length + payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  member.prefix.copy(frame, headerLength);
  payload.copy(frame, headerLength + member.prefix.length);
  raw.write(frame);
}
