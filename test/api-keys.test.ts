// The key checks behind every request with a `mgw_` key: what they cost the
// store, and how soon a key created or revoked by another instance counts.
// The store is the real in-process accounts store, counted; the clock is the test's.
import { describe, expect, it } from 'vitest';
import { createApiKeys } from '../src/accounts/api-keys.js';
import { createMemoryAccountStore } from '../src/accounts/store/memory.js';
import type { ApiKeyStore } from '../src/accounts/store/types.js';

function counted(store: ApiKeyStore) {
  const reads = { listKeys: 0, getKey: 0, touchKey: 0 };
  const wrapped: ApiKeyStore = {
    insertKey: (doc) => store.insertKey(doc),
    revokeKey: (id, at) => store.revokeKey(id, at),
    touchKey: (id, at) => (reads.touchKey++, store.touchKey(id, at)),
    getKey: (id) => (reads.getKey++, store.getKey(id)),
    listKeys: () => (reads.listKeys++, store.listKeys()),
  };
  return { store: wrapped, reads };
}

describe('API key checks', () => {
  it('answers a flood of made-up keys without reading the store for each, and sees keys created elsewhere within a second', async () => {
    let clock = 1_000_000;
    const shared = createMemoryAccountStore();
    const { store, reads } = counted(shared);
    const here = createApiKeys(store, { now: () => clock });
    const elsewhere = createApiKeys(shared, { now: () => clock });
    const own = await here.create({ role: 'viewer', accounts: [{ provider: 'PODIUM', account: 'env' as never }], name: null });

    expect(await here.verify(own.key)).toMatchObject({ role: 'viewer', keyId: own.id });
    const made = (i: number) => `mgw_${i.toString(16).padStart(24, '0')}_${'A'.repeat(43)}`;
    for (let i = 0; i < 1_000; i++) expect(await here.verify(made(i))).toBeNull();
    // A wrong secret for a real id is refused too, from the same snapshot.
    expect(await here.verify(`${own.key.slice(0, 29)}${'B'.repeat(43)}`)).toBeNull();
    expect(reads).toEqual({ listKeys: 1, getKey: 0, touchKey: 1 });

    // A key created on another instance: unknown until the snapshot is a second old, then one reload finds it.
    const theirs = await elsewhere.create({ role: 'admin', accounts: null, name: 'ops' });
    expect(await here.verify(theirs.key)).toBeNull();
    clock += 1_001;
    expect(await here.verify(theirs.key)).toMatchObject({ role: 'admin', keyId: theirs.id, accounts: null });
    for (let i = 0; i < 1_000; i++) await here.verify(made(i));
    expect(reads.listKeys).toBe(2);
  });

  it('counts a revocation at once where it was made, within the snapshot age elsewhere, and names revoked keys of open connections', async () => {
    let clock = 1_000_000;
    const shared = createMemoryAccountStore();
    const here = createApiKeys(shared, { now: () => clock });
    const elsewhere = createApiKeys(shared, { now: () => clock });
    const key = await here.create({ role: 'viewer', accounts: null, name: null });
    const other = await here.create({ role: 'viewer', accounts: null, name: null });
    expect(await elsewhere.verify(key.key)).not.toBeNull();

    expect(await here.revoke(key.id)).toBe(true);
    expect(await here.verify(key.key)).toBeNull();
    expect(await here.revoke(key.id)).toBe(false);
    // The other instance still has its snapshot: usable until it is 5 s old.
    expect(await elsewhere.verify(key.key)).not.toBeNull();
    clock += 5_000;
    expect(await elsewhere.verify(key.key)).toBeNull();
    expect(await elsewhere.verify(other.key)).not.toBeNull();
    expect(await elsewhere.revokedAmong([key.id, other.id, 'f'.repeat(24)])).toEqual([key.id, 'f'.repeat(24)]);
  });

  it("records a key's use once an hour, not once a request", async () => {
    let clock = 1_000_000;
    const { store, reads } = counted(createMemoryAccountStore());
    const keys = createApiKeys(store, { now: () => clock });
    const key = await keys.create({ role: 'viewer', accounts: null, name: null });
    expect((await keys.get(key.id))?.lastUsedAt).toBeNull();
    for (let i = 0; i < 100; i++) await keys.verify(key.key);
    expect(reads.touchKey).toBe(1);
    expect((await keys.get(key.id))?.lastUsedAt).toEqual(new Date(1_000_000));
    clock += 3_600_000;
    await keys.verify(key.key);
    expect(reads.touchKey).toBe(2);
    expect((await keys.get(key.id))?.lastUsedAt).toEqual(new Date(4_600_000));
  });
});
