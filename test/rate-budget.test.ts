// The request budget of a provider credential: a sliding window (never more than
// the limit in any window) that queues bursts in order and refuses what would
// wait too long; in Redis, two instances spend one budget.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createUpstreamClient } from '../src/providers/http.js';
import { createLocalBudget, createRateBudgets } from '../src/providers/rate-budget.js';
import { useTestGateway } from './helpers/gateway.js';

describe('rate budget', () => {
  it('queues a burst past the window in order and refuses a wait longer than allowed, taking nothing', async () => {
    let now = 0;
    const budget = createLocalBudget({ requests: 3, perMs: 3_000 }, () => now);
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await budget.take(10_000));
    // The 4th and 5th wait for the first three to leave the window, plus the margin for late arrivals (100 ms).
    expect(waits.map((w) => (w.ok ? w.waitMs : -1))).toEqual([0, 0, 0, 3_100, 3_100]);
    expect(await budget.take(2_500)).toEqual({ ok: false, retryAfterMs: 3_100, remaining: 0 });
    now += 3_100; // the queue drained and nothing more was taken
    expect(await budget.take(0)).toMatchObject({ ok: true, waitMs: 0 });
  });

  it('never lets more than the limit through in any window, in process and in Redis, whatever the arrival pattern', async () => {
    const limit = { requests: 5, perMs: 1_000 };
    let now = 0;
    const local = createLocalBudget(limit, () => now);
    const slots: number[] = [];
    // Bursts and trickles over 10 windows, each call willing to wait up to 5 s.
    for (let step = 0; step < 200; step++) {
      now += step % 17 === 0 ? 400 : 37;
      const r = await local.take(5_000);
      if (r.ok) slots.push(now + r.waitMs);
    }
    expect(slots.length).toBeGreaterThan(40);
    for (const at of slots) expect(slots.filter((s) => s > at - limit.perMs && s <= at).length).toBeLessThanOrEqual(limit.requests);

    // Redis keeps time itself: take a burst and check the granted slots the same way.
    const budgets = createRateBudgets(inject('redisUrl'), `rw${randomUUID().slice(0, 8)}`);
    onTestFinished(() => budgets.close());
    const shared = budgets.budget('window', { requests: 5, perMs: 300 });
    const granted = await Promise.all(Array.from({ length: 12 }, () => shared.take(1_000)));
    const waits = granted.map((r) => (r.ok ? r.waitMs : -1)).sort((x, y) => x - y);
    // 12 calls at 5 per 300 ms: 5 go at once, the 6th to 10th wait for the first five to leave the
    // window, the 11th and 12th for the next five (a second window, less the time the calls took to arrive).
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(Math.min(...waits.slice(5))).toBeGreaterThan(0);
    expect(Math.min(...waits.slice(10))).toBeGreaterThan(300);
  });

  it('counts a call that left later than its slot allows again where it left, so the call a window after it cannot overtake it', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    // 2 calls per second: a slot's margin is 100 ms, of which a call may leave 50 ms late.
    const budget = createLocalBudget({ requests: 2, perMs: 1_000 });
    const client = createUpstreamClient({ provider: 'PODIUM', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, budget, maxRetries: 0 });
    await Promise.all([client.request({ path: '/a' }), client.request({ path: '/b' })]);
    // The third waits about 1.1 s for its slot; the event loop is held 300 ms just before the slot comes, so it leaves late.
    const late = client.request({ path: '/c', budgetWaitMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const until = Date.now() + 400;
    while (Date.now() < until) {
      // busy: the call's timer cannot fire
    }
    await late;
    // Counted again at its real departure: the next call waits for that slot to leave the window, not for the one it missed.
    const next = await budget.take(5_000);
    expect(next.ok && next.waitMs).toBeGreaterThan(500);
  });

  it('is one budget for two instances on one Redis', async () => {
    const key = `test-${randomUUID()}`;
    const a = createRateBudgets(inject('redisUrl'));
    const b = createRateBudgets(inject('redisUrl'));
    onTestFinished(async () => void (await Promise.all([a.close(), b.close()])));
    const limit = { requests: 5, perMs: 60_000 };
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).budget(key, limit).take(0)));
    expect(answers.filter((r) => r.ok)).toHaveLength(5);
    const refused = answers.find((r) => !r.ok);
    expect(refused).toMatchObject({ ok: false });
    expect(refused && !refused.ok && refused.retryAfterMs).toBeGreaterThan(10_000);
  });

  it('makes two gateway instances on one Redis spend one Podium budget, refusing past it with retryAfter', async () => {
    const env = { PODIUM_REQUESTS_PER_MINUTE: '3', GATEWAY_CACHE_PREFIX: `rb${randomUUID().slice(0, 8)}` };
    const a = await useTestGateway({ env, redis: true });
    const b = await useTestGateway({ env, redis: true, podium: a.podium });
    const users = a.podium.fixtures.userIds;
    const { encodeId } = await import('../src/ids.js');
    const ask = (t: typeof a, i: number) => t.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: encodeId('PODIUM', 'User', users[i]!) });
    a.podium.resetRequests();
    const answers = [await ask(a, 0), await ask(a, 1), await ask(b, 2), await ask(b, 3)];
    expect(answers.slice(0, 3).map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    // One slot every 20 s: the next would wait longer than a call may, so it is refused without calling Podium.
    expect(answers[3]?.errors?.[0]?.extensions).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', provider: 'PODIUM' });
    expect(answers[3]?.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(10);
    expect(a.podium.requestCount()).toBe(3);
    expect(await (await fetch(`${b.url}/metrics`)).text()).toMatch(/gateway_upstream_rate_budget_remaining\{provider="PODIUM"\} 0/);
  });
});
