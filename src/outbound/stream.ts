// The `outboundMessageUpdated` stream: live changes from the bus, preceded by
// each named send's current state (`ids`) or by every change stored after a
// cursor (`after`), with no gap between the two (the bus is listened to
// before the store is read) and no change delivered twice (per send, a change
// is delivered only when its position is past the last one delivered).
import type { OutboundBus } from './bus.js';
import { matchesFilter } from './memory-store.js';
import { encodeSeq } from './seq.js';
import type { OutboundEvent, OutboundFilter, OutboundRecord, OutboundStore } from './types.js';

export interface OutboundStreamOptions {
  readonly filter: OutboundFilter;
  /** A position to resume after (decoded). */
  readonly after: string | null;
  /** Whether to start with the named sends' current states. */
  readonly initial: boolean;
}

const PAGE = 200;

export async function* outboundStream(store: OutboundStore, bus: OutboundBus, options: OutboundStreamOptions): AsyncGenerator<OutboundEvent> {
  const pending: OutboundRecord[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe((r) => {
    if (!matchesFilter(r, options.filter)) return;
    pending.push(r);
    wake?.();
  });
  const delivered = new Map<string, string>();
  const fresh = (r: OutboundRecord): boolean => {
    const last = delivered.get(r.id);
    if (last !== undefined && last >= r.seq) return false;
    delivered.set(r.id, r.seq);
    return true;
  };
  const event = (r: OutboundRecord): OutboundEvent => ({ cursor: encodeSeq(r.seq), record: r });
  try {
    if (options.initial && options.filter.ids) {
      for (const r of await store.getMany(options.filter.ids)) if (matchesFilter(r, options.filter) && fresh(r)) yield event(r);
    }
    if (options.after !== null) {
      let seq = options.after;
      for (;;) {
        const page = await store.changedAfter(seq, options.filter, PAGE);
        for (const r of page) if (fresh(r)) yield event(r);
        if (page.length < PAGE) break;
        seq = page[page.length - 1]!.seq;
      }
    }
    for (;;) {
      while (pending.length > 0) {
        const r = pending.shift()!;
        if (fresh(r)) yield event(r);
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}
