// The in-process cache backend's counters: bumping one leaves the others alone,
// and a counter evicted for room never reads lower than it was.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../src/cache/backend.js';

describe('the in-process cache backend', () => {
  it('bumps only the counters named, however often', async () => {
    const backend = createMemoryBackend();
    await backend.bump(['a']);
    await backend.bump(['a']);
    await backend.bump(['a', 'b']);
    expect((await backend.read([], ['a', 'b', 'c'])).generations).toEqual([3, 1, 0]);
  });

  it('reads an evicted counter as at least its last value', async () => {
    const backend = createMemoryBackend({ maxCounters: 2 });
    await backend.bump(['a']);
    await backend.bump(['a']);
    await backend.bump(['b']);
    await backend.bump(['c']); // evicts a (2)
    const [a, b, c] = (await backend.read([], ['a', 'b', 'c'])).generations;
    expect(a).toBeGreaterThanOrEqual(2);
    expect([b, c]).toEqual([1, 1]);
  });
});
