/**
 * How far the bus is done (Republisher → Spool.busPublished): only a prefix of records every one of
 * which the broker acknowledged or the gateway gave up on; and the replay after a restart, a few
 * batches at a time beside live readings.
 */
import type { ReadingsBatchPayload } from '@cnx/protocol';
import { describe, expect, it } from 'vitest';
import { type BusPublisher, Republisher } from '../../src/ingest/republisher';

/** A bus whose acknowledgements the test gives, in any order. */
function manualBus() {
  const sent: { records: string[]; ack: (ok?: boolean) => void }[] = [];
  const bus: BusPublisher = {
    publish(_topic, payload, done) {
      const records = (JSON.parse(payload) as ReadingsBatchPayload).readings.map((r) => JSON.stringify(r));
      sent.push({ records, ack: (ok = true) => done?.(ok) });
    },
  };
  return { bus, sent };
}

const record = (i: number) => JSON.stringify({ i });
const committed = (first: number, n: number) => ({
  firstIndex: first,
  records: Array.from({ length: n }, (_, k) => record(first + k)),
  readings: [],
  at: 0,
});
const tick = () => new Promise((r) => setImmediate(r));

describe('Republisher: how far the bus is done', () => {
  it('reports only a prefix that is acknowledged or given up on, whatever order the answers come in', () => {
    const { bus, sent } = manualBus();
    const done: number[] = [];
    const rep = new Republisher('t', bus, 0, (i) => done.push(i));
    rep.onCommitted(committed(0, 3));
    rep.onCommitted(committed(3, 2));
    rep.onCommitted(committed(5, 4));
    expect(sent).toHaveLength(3);
    sent[1]!.ack();
    expect(done).toEqual([]); // 0…2 still in flight
    sent[0]!.ack();
    expect(done).toEqual([5]);
    sent[2]!.ack(false); // dropped and counted by the connection: the bus is done with it too
    expect(done).toEqual([5, 9]);
  });

  it('after close() (shutdown) a batch the closing connection fails stays unfinished, for the next start', () => {
    const { bus, sent } = manualBus();
    const done: number[] = [];
    const rep = new Republisher('t', bus, 60_000, (i) => done.push(i));
    rep.onCommitted(committed(0, 2));
    rep.flush();
    rep.onCommitted(committed(2, 3));
    rep.close(); // publishes the window at once
    expect(sent.map((x) => x.records.length)).toEqual([2, 3]);
    sent[0]!.ack(); // acknowledged before the connection closed
    sent[1]!.ack(false); // failed by the closing connection
    expect(done).toEqual([2]);
  });

  it('records waiting in the batch window are not done', () => {
    const { bus, sent } = manualBus();
    const done: number[] = [];
    const rep = new Republisher('t', bus, 60_000, (i) => done.push(i));
    rep.onCommitted(committed(0, 2));
    rep.flush();
    rep.onCommitted(committed(2, 2)); // in the window
    sent[0]!.ack();
    expect(done).toEqual([2]);
    rep.flush();
    sent[1]!.ack();
    expect(done).toEqual([2, 4]);
  });

  it('replays the records after the checkpoint a few batches at a time, beside live ones, then reports them done', async () => {
    const { bus, sent } = manualBus();
    const done: number[] = [];
    const rep = new Republisher('t', bus, 0, (i) => done.push(i));
    const total = 100;
    let next = 0;
    let closed = false;
    rep.replay(
      {
        read: (max) => {
          const n = Math.min(max, 5, total - next);
          if (n <= 0) return undefined;
          const records = Array.from({ length: n }, (_, k) => record(next + k));
          next += n;
          return { records, count: n };
        },
        close: () => {
          closed = true;
        },
      },
      total,
    );
    expect(sent.length).toBe(8); // at most 8 replay batches in flight
    rep.onCommitted(committed(100, 1)); // a live reading meanwhile goes out at once
    expect(sent[8]!.records).toEqual([record(100)]);
    sent[8]!.ack();
    expect(done).toEqual([]);
    // Acknowledge everything as it comes.
    for (let k = 0; k < sent.length; k++) {
      if (k !== 8) sent[k]!.ack();
      await tick();
    }
    const published = sent.flatMap((s) => s.records);
    expect(published.sort()).toEqual(Array.from({ length: 101 }, (_, i) => record(i)).sort());
    expect(closed).toBe(true);
    expect(rep.replayLeft).toBe(0);
    expect(done.at(-1)).toBe(101);
  });
});
