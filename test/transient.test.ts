// Writes FerretDB refused for a moment (SQLITE_BUSY: another writer held the
// lock, nothing was written) are retried in place; any other error is not.
import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isTransientWriteError, retryTransient } from '../src/infra/transient.js';

const busy = (): MongoServerError => new MongoServerError({ message: '[msg_update.go:133 handler.(*Handler).updateDocument] database is locked (5) (SQLITE_BUSY)' });

describe('retryTransient', () => {
  it('retries a write the server answered busy, and gives up after four attempts', async () => {
    let calls = 0;
    expect(await retryTransient(async () => (++calls < 3 ? Promise.reject(busy()) : 'written'))).toBe('written');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retryTransient(async () => (calls++, Promise.reject(busy())))).rejects.toThrow('SQLITE_BUSY');
    expect(calls).toBe(4);
  });

  it('does not retry other errors (a duplicate key is an answer, not a moment of contention)', async () => {
    let calls = 0;
    const duplicate = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    await expect(retryTransient(async () => (calls++, Promise.reject(duplicate)))).rejects.toBe(duplicate);
    expect(calls).toBe(1);
    expect(isTransientWriteError(new Error('database is locked'))).toBe(false);
  });
});
