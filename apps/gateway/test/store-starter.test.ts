import { createLogger } from '@cnx/runtime';
import { type ReadingStore, STORE_ERROR_CODES, StoreError } from '@cnx/store';
import { describe, expect, it } from 'vitest';
import { StoreStarter } from '../src/store-starter';
import { waitFor } from './helpers';

const silent = createLogger('store-starter-test', 'silent');

/** A store whose start() fails with the given errors in turn, then succeeds. */
function fakeStore(failures: Error[]) {
  const calls = { start: 0, stop: 0 };
  const store = {
    backend: 'influxdb',
    start: async () => {
      calls.start++;
      const e = failures.shift();
      if (e) throw e;
    },
    stop: async () => {
      calls.stop++;
    },
  } as unknown as ReadingStore;
  return { store, calls };
}

const network = () => new StoreError(STORE_ERROR_CODES.network, 'ECONNREFUSED', { retryable: true });
const opts = { minBackoffMs: 5, maxBackoffMs: 20, createsDatabase: true };

describe('StoreStarter', () => {
  it('keeps starting a store that is not up, in the background, until it starts', async () => {
    const { store, calls } = fakeStore([network(), network(), network()]);
    const starter = new StoreStarter(store, opts, silent);
    await starter.start(); // the first attempt failed: not thrown, the gateway goes on
    expect(starter.started).toBe(false);
    expect(starter.status()).toMatchObject({ started: false, failedAttempts: 1, lastError: 'ECONNREFUSED' });
    await waitFor(() => starter.started, 10_000, 'the store to start');
    expect(calls.start).toBe(4);
    expect(starter.status()).toEqual({ started: true, failedAttempts: 0 });
    await starter.stop();
    expect(calls.stop).toBe(1);
  });

  it('an invalid configuration is thrown at once, not retried', async () => {
    const bad = new StoreError(STORE_ERROR_CODES.invalidConfig, 'database is required', { retryable: false });
    const { store, calls } = fakeStore([bad]);
    const starter = new StoreStarter(store, opts, silent);
    await expect(starter.start()).rejects.toThrow('database is required');
    expect(calls.start).toBe(1);
    await starter.stop();
  });

  it('any other start failure is retried, whatever its retryable flag says', async () => {
    const refused = new StoreError(STORE_ERROR_CODES.queryFailed, 'CREATE DATABASE refused', { retryable: false });
    const { store } = fakeStore([refused, new Error('unexpected')]);
    const starter = new StoreStarter(store, opts, silent);
    await starter.start();
    await waitFor(() => starter.started, 10_000, 'the store to start');
    await starter.stop();
  });

  it('a write that finds the store not started (or its database gone) starts it again', async () => {
    const { store, calls } = fakeStore([]);
    const starter = new StoreStarter(store, opts, silent);
    await starter.start();
    expect(starter.started).toBe(true);
    // A network error says nothing about the store's state: no restart.
    starter.lost(network());
    expect(calls.start).toBe(1);
    starter.lost(new StoreError(STORE_ERROR_CODES.notStarted, 'call start() first', { retryable: false }));
    expect(starter.started).toBe(false);
    await waitFor(() => starter.started, 10_000, 'the store to start again');
    expect(calls).toEqual({ start: 2, stop: 1 });
    starter.lost(new StoreError(STORE_ERROR_CODES.databaseNotFound, 'database not found', { retryable: true }));
    await waitFor(() => starter.started && calls.start === 3, 10_000, 'the store to start again (CREATE DATABASE)');
    await starter.stop();

    // Without CREATE DATABASE at start, restarting cannot bring the database back: left to the writer's retries.
    const other = fakeStore([]);
    const plain = new StoreStarter(other.store, { ...opts, createsDatabase: false }, silent);
    await plain.start();
    plain.lost(new StoreError(STORE_ERROR_CODES.databaseNotFound, 'database not found', { retryable: true }));
    expect(plain.started).toBe(true);
    expect(other.calls.start).toBe(1);
    await plain.stop();
  });

  it('stop() ends the retries and stops the store', async () => {
    const { store, calls } = fakeStore(Array.from({ length: 1000 }, network));
    const starter = new StoreStarter(store, opts, silent);
    await starter.start();
    await waitFor(() => calls.start >= 3, 10_000, 'a few attempts');
    await starter.stop();
    expect(starter.started).toBe(false);
    expect(calls.stop).toBe(1);
  });
});
