import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_QC_CONFIG, type DeviceQcState, type QcFlag } from '@cnx/domain';
import { createLogger } from '@cnx/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { QC_STATE_FILE, QcSnapshot } from '../src/spool/qc-snapshot';
import { Spool } from '../src/spool/spool';
import { chiangMaiAirDevices, chiangMaiPack } from './helpers';
import { ingestStages } from './stages';

/**
 * QC state survives a restart (issue 11, item 8): kept with the spool's checkpoint, restored before
 * intake, brought up to date from the spool records after it. The same readings get the same flags
 * before and after a restart, graceful or a crash.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const silent = createLogger('qc-state-test', 'silent');

/** One gateway life on `dir`: spool, QC snapshot and pipeline wired as gateway.ts does. */
async function life(dir: string, persist = true) {
  const pack = await chiangMaiPack();
  const qcStates = new Map<string, DeviceQcState>();
  const snapshot = new QcSnapshot(dir, qcStates, DEFAULT_QC_CONFIG, false, silent);
  const spool = new Spool({
    dir,
    fsync: 'never',
    beforeCheckpoint: persist ? (end, must) => snapshot.save(end, must) : undefined,
  });
  await spool.start();
  const restored = persist ? snapshot.restore() : { devices: 0, replayed: 0 };
  const flags: QcFlag[][] = [];
  const stages = ingestStages({ pack, log: spool, qcStates });
  stages.sink.onCommitted((c) => {
    for (const r of c.readings) flags.push(r.qc);
  });
  /** Ingest readings of one device as messages; returns each reading's flags. */
  const send = (device: string, readings: { ts: number; seq: number; pm25: number }[]): QcFlag[][] => {
    flags.length = 0;
    for (const r of readings) {
      const body = JSON.stringify({ ts: r.ts, seq: r.seq, values: { pm25: r.pm25, humidity: 50 } });
      expect(stages.message(device, body, NOW)).toBe('accepted');
    }
    return flags.slice();
  };
  /** What the writer does after the store took everything: commit (which writes the checkpoint). */
  const commitAll = () => {
    for (let b = spool.readBatch(1000); b; b = spool.readBatch(1000)) spool.commit(b.end);
  };
  return { spool, send, commitAll, restored };
}

const NOW = Date.now();
const T0 = NOW - 50 * 60_000;
const at = (i: number) => T0 + i * 60_000;

/** The scenario's readings: a stuck run, a spike, a sequence number. */
function history(devices: string[]) {
  const [stuckDev, spikeDev, seqDev] = devices as [string, string, string];
  const run = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => ({ ts: at(from + k), seq: from + k, pm25: 55 }));
  return {
    stuckDev,
    spikeDev,
    seqDev,
    stuckBefore: run(0, 20),
    stuckLate: run(20, 29), // after the last checkpoint, before the restart
    stuckAfter: run(29, 31), // the 30th and 31st identical values: stuck
    spikeBase: { ts: at(0), seq: 1, pm25: 20 },
    spike: { ts: at(1), seq: 2, pm25: 300 },
    seqReading: { ts: at(3), seq: 7, pm25: 30 },
  };
}

/** Before the restart: everything up to the last checkpoint, then readings the spool holds only. */
async function before(dir: string, devices: string[]) {
  const h = history(devices);
  const a = await life(dir);
  expect(a.send(h.stuckDev, h.stuckBefore).every((f) => f.length === 0)).toBe(true);
  expect(a.send(h.spikeDev, [h.spikeBase, h.spike])).toEqual([[], ['spike']]);
  expect(a.send(h.seqDev, [h.seqReading])).toEqual([[]]);
  a.commitAll(); // checkpoint written, the QC state with it
  expect(a.send(h.stuckDev, h.stuckLate).every((f) => f.length === 0)).toBe(true);
  return { h, a };
}

/** After the restart: the same readings get the same flags, histories carry on. */
function expectCarriesOn(b: Awaited<ReturnType<typeof life>>, h: ReturnType<typeof history>) {
  // The stuck run continues: the 30th identical value is flagged.
  expect(b.send(h.stuckDev, h.stuckAfter)).toEqual([['stuck'], ['stuck']]);
  // A redelivered spike keeps `spike`, and a redelivery is not a seq_duplicate.
  expect(b.send(h.spikeDev, [h.spike])).toEqual([['spike']]);
  expect(b.send(h.seqDev, [h.seqReading])).toEqual([[]]);
  // The same seq at another time is a duplicate: the gateway remembers seq 7.
  expect(b.send(h.seqDev, [{ ...h.seqReading, ts: at(5) }])).toEqual([['seq_duplicate']]);
}

describe('QC state across a gateway restart', () => {
  it('graceful stop: saved at stop, restored at start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-qc-'));
    dirs.push(dir);
    const devices = (await chiangMaiAirDevices()).slice(0, 3);
    const { h, a } = await before(dir, devices);
    await a.spool.stop();
    const b = await life(dir);
    expect(b.restored.devices).toBe(3);
    expect(b.restored.replayed).toBe(0);
    expectCarriesOn(b, h);
    await b.spool.stop();
  });

  it('crash: the state saved with the last checkpoint, brought up to date from the spool records after it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-qc-'));
    dirs.push(dir);
    const devices = (await chiangMaiAirDevices()).slice(0, 3);
    const { h, a } = await before(dir, devices);
    const saved = JSON.parse(readFileSync(path.join(dir, QC_STATE_FILE), 'utf8'));
    expect([...saved.devices].sort()).toEqual([...devices].sort());
    // "Crash": no stop(), so nothing more is saved. A new life opens the same directory.
    const b = await life(dir);
    expect(b.restored).toEqual({ devices: 3, replayed: h.stuckLate.length });
    expectCarriesOn(b, h);
    await b.spool.stop();
    await a.spool.stop();
  });

  it('without the saved state (the gateway before this change) a restart forgets: the baseline', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-qc-'));
    dirs.push(dir);
    const devices = (await chiangMaiAirDevices()).slice(0, 3);
    const h = history(devices);
    const a = await life(dir, false);
    a.send(h.stuckDev, [...h.stuckBefore, ...h.stuckLate]);
    a.send(h.spikeDev, [h.spikeBase, h.spike]);
    a.commitAll();
    await a.spool.stop();
    const b = await life(dir, false);
    expect(b.send(h.stuckDev, h.stuckAfter)).toEqual([[], []]);
    expect(b.send(h.spikeDev, [h.spike])).toEqual([[]]);
    await b.spool.stop();
  });

  it('an unreadable state file: logged, every device rebuilt from the records still in the spool', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-qc-'));
    dirs.push(dir);
    const devices = (await chiangMaiAirDevices()).slice(0, 3);
    const { h, a } = await before(dir, devices);
    await a.spool.stop();
    writeFileSync(path.join(dir, QC_STATE_FILE), '{"v":1,"position":');
    const b = await life(dir);
    expect(b.restored.devices).toBe(0);
    // Only the records not yet committed are left in the spool's segment here (all of them: one segment).
    expect(b.restored.replayed).toBeGreaterThan(0);
    expect(b.send(h.stuckDev, h.stuckAfter)).toEqual([['stuck'], ['stuck']]);
    await b.spool.stop();
  });
});
