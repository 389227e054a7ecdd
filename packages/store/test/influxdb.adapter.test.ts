import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Reading } from '@cnx/domain';
import { freePort, type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDbReadingStore, type InfluxDbStoreOptions, STORE_ERROR_CODES, StoreError } from '../src/index';

const T0 = Date.UTC(2025, 2, 1, 6, 0, 0);
const ALL = { from: T0 - 86_400_000, to: T0 + 86_400_000 };
const r = (i: number, over: Partial<Reading> = {}): Reading => ({
  city: 'cnx',
  stationId: `s${i % 3}`,
  deviceId: `d${i % 3}`,
  ts: T0 + i * 1000,
  values: { pm25: i },
  corrections: [],
  qc: [],
  ...over,
});
const batch = (from: number, n: number) => Array.from({ length: n }, (_, k) => r(from + k));

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to reject').toBeInstanceOf(StoreError);
  return e as StoreError;
}

const stores: InfluxDbReadingStore[] = [];
const open = async (opts: InfluxDbStoreOptions, start = true): Promise<InfluxDbReadingStore> => {
  const store = new InfluxDbReadingStore(opts);
  stores.push(store);
  if (start) await store.start();
  return store;
};
afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
});

describe('InfluxDbReadingStore against a real influxd', () => {
  let influx: InfluxDBHandle;
  beforeAll(async () => {
    influx = await startInfluxDB({ database: 'adapter' });
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('writes fail as retryable while influxd is down and succeed after it restarts on the same port', async () => {
    const store = await open({ url: influx.url, database: 'outage', createDatabase: true, timeoutMs: 5000 });
    await store.write(batch(0, 10));

    await influx.stopProcess();
    const down = await rejection(store.write(batch(10, 10)));
    expect(down.retryable).toBe(true);
    expect(down.code).toBe(STORE_ERROR_CODES.network);
    expect(down.message).toContain(influx.url);
    expect((await store.health()).ok).toBe(false);

    await influx.restart();
    await store.write(batch(10, 10)); // the caller's retry: same keep-alive pool, new connection
    expect(await store.count(ALL)).toBe(20);
    expect((await store.health()).ok).toBe(true);

    // A crash (SIGKILL) after acknowledged writes loses none of them.
    await influx.kill();
    expect((await rejection(store.write(batch(20, 10)))).retryable).toBe(true);
    await influx.restart();
    await store.write(batch(20, 10));
    expect(await store.count(ALL)).toBe(30);
    expect(await store.query({ ...ALL, limit: 1, order: 'desc' })).toEqual([r(29)]);
  });

  it('a field type conflict is a permanent error carrying the status and the body', async () => {
    const store = await open({ url: influx.url, database: influx.database });
    // Someone else wrote qc as a float into the same shard.
    await influx.write(`reading,city=cnx,device=d0,station=s0 qc=1 ${T0}`);
    const e = await rejection(store.write([r(1)]));
    expect(e.code).toBe(STORE_ERROR_CODES.rejected);
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(400);
    expect(e.body).toMatch(/field type conflict/);
    expect(e.message).toMatch(/HTTP 400 .*field type conflict/);
  });

  it('a missing database is retryable (the data is fine; the database must be created)', async () => {
    const store = await open({ url: influx.url, database: 'never_created' });
    const e = await rejection(store.write([r(0)]));
    expect(e.code).toBe(STORE_ERROR_CODES.databaseNotFound);
    expect(e.retryable).toBe(true);
    expect(e.status).toBe(404);
    const q = await rejection(store.query({ ...ALL, limit: 10 }));
    expect(q.code).toBe(STORE_ERROR_CODES.databaseNotFound);
    const dbs = await influx.query('SHOW DATABASES');
    expect(dbs.results[0]?.series?.[0]?.values.flat()).not.toContain('never_created');
  });

  it('writes to and reads from a named retention policy', async () => {
    await influx.query(`CREATE RETENTION POLICY "one week" ON "${influx.database}" DURATION 7d REPLICATION 1`);
    const store = await open({ url: influx.url, database: influx.database, retentionPolicy: 'one week' });
    const now = Date.now();
    const reading = r(0, { ts: now - 1000, stationId: 'rp-station' });
    await store.write([reading]);
    const range = { from: now - 60_000, to: now + 1 };
    expect(await store.query({ ...range, limit: 10 })).toEqual([reading]);
    const def = await open({ url: influx.url, database: influx.database });
    expect(await def.count({ ...range, stationIds: ['rp-station'] })).toBe(0);
  });

  it('gzip-compressed writes land like plain ones', async () => {
    const store = await open({
      url: influx.url,
      database: 'gz',
      createDatabase: true,
      gzip: true,
      maxLinesPerRequest: 7,
    });
    const readings = batch(0, 50);
    await store.write(readings);
    expect(await store.query({ ...ALL, limit: 100 })).toEqual(readings);
  });

  it('a batch split into several requests stores exactly what was written; an invalid reading refuses it before anything is sent', async () => {
    const store = await open({ url: influx.url, database: 'enc', createDatabase: true, maxLinesPerRequest: 7 });
    const readings = batch(0, 150).map((x, i) =>
      i % 10 ? x : { ...x, stationId: 'สถานี', qc: ['spike' as const], seq: i, values: { pm25: 1 / 3 } },
    );
    await store.write(readings);
    expect(await store.query({ ...ALL, limit: 1000 })).toEqual(readings);
    const e = await rejection(store.write([...batch(200, 20), r(1, { values: { pm25: Number.NaN } })]));
    expect(e.code).toBe(STORE_ERROR_CODES.invalidReading);
    expect(await store.query({ ...ALL, limit: 1000 })).toHaveLength(150);
  });

  it('start() fails as retryable when nothing listens', async () => {
    const port = await freePort();
    const store = await open({ url: `http://127.0.0.1:${port}`, database: 'x', timeoutMs: 2000 }, false);
    const e = await rejection(store.start());
    expect(e.retryable).toBe(true);
    expect(e.code).toBe(STORE_ERROR_CODES.network);
  });
});

/** A scripted HTTP server standing in for InfluxDB, to check the wire and the error mapping. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}
async function fakeInflux(
  handler: (seen: Seen, res: ServerResponse) => void,
  ping: Record<string, string> = { 'x-influxdb-version': '1.8.10', 'x-influxdb-build': 'OSS' },
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      if (s.url.startsWith('/ping') || s.url.startsWith('/prefix/ping')) {
        res.writeHead(204, ping).end();
      } else handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('InfluxDbReadingStore on the wire (scripted server)', () => {
  it('sends line protocol to /write with db, rp and precision=ms, Token auth, a path prefix and gzip', async () => {
    // A 2.x server (Token auth); the exact requests of each version: influxdb.conformance.test.ts.
    const v2 = { 'x-influxdb-version': 'v2.7.11', 'x-influxdb-build': 'OSS' };
    const fake = await fakeInflux((_s, res) => res.writeHead(204).end(), v2);
    try {
      const store = await open({
        url: `${fake.url}/prefix/`,
        database: 'air db',
        retentionPolicy: 'autogen',
        token: 'secret-token',
        gzip: true,
        maxLinesPerRequest: 2,
      });
      await store.write(batch(0, 5));
      const writes = fake.seen.filter((s) => s.url.includes('/write'));
      // 5 readings of 2025 (late: their hour has ended) and one mark per station and hour (3), 2 lines a request.
      expect(writes).toHaveLength(4);
      for (const w of writes) {
        expect(w.method).toBe('POST');
        expect(w.url).toBe('/prefix/write?db=air+db&rp=autogen&precision=ms');
        expect(w.headers.authorization).toBe('Token secret-token');
        expect(w.headers['content-encoding']).toBe('gzip');
      }
      const lines = writes.map((w) => gunzipSync(w.body).toString('utf8')).join('');
      expect(lines.trim().split('\n')).toHaveLength(8);
      expect(
        lines
          .trim()
          .split('\n')
          .slice(5)
          .map((l) => l.replace(/ w=\d+i /, ' w=<now>i ')),
      ).toEqual([0, 1, 2].map((i) => `rollup_late,city=cnx,station=s${i} w=<now>i ${T0}`));
      expect(lines).toContain(`reading,city=cnx,device=d0,station=s0 qc="",qc_metrics="",pm25=0 ${T0}\n`);
    } finally {
      await fake.close();
    }
  });

  it('sends InfluxQL as a form POST to /query with epoch=ms and Basic auth', async () => {
    const fake = await fakeInflux((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
    });
    try {
      const store = await open({ url: fake.url, database: 'cnx', username: 'reader', password: 'p@ss:w' });
      expect(await store.query({ ...ALL, stationIds: [`x' OR 1=1 --`], limit: 5, order: 'desc' })).toEqual([]);
      const q = fake.seen.find((s) => s.url.startsWith('/query'))!;
      expect(q.url).toBe('/query?db=cnx&epoch=ms');
      expect(q.headers.authorization).toBe(`Basic ${Buffer.from('reader:p@ss:w').toString('base64')}`);
      const text = new URLSearchParams(q.body.toString()).get('q');
      expect(text).toContain(`WHERE time >= ${ALL.from}ms AND time < ${ALL.to}ms AND ("station" = 'x\\' OR 1=1 --')`);
      expect(text).toMatch(/ ORDER BY time DESC LIMIT 5$/);
    } finally {
      await fake.close();
    }
  });

  it('maps HTTP answers to retryable and permanent errors', async () => {
    const answers: Record<string, [number, Record<string, string>, string]> = {
      s429: [429, { 'retry-after': '7' }, '{"error":"too many requests"}'],
      s503: [503, {}, 'overloaded'],
      s500: [500, {}, '{"error":"engine: cache-max-memory-size exceeded"}'],
      s401: [401, {}, '{"error":"authorization failed"}'],
      s403: [403, {}, '{"error":"forbidden"}'],
      s413: [413, {}, '{"error":"Request Entity Too Large"}'],
      s400: [400, {}, `{"error":"partial write: points beyond retention policy dropped=1 ${'x'.repeat(900)}"}`],
    };
    const fake = await fakeInflux((s, res) => {
      const db = new URL(s.url, 'http://x').searchParams.get('db') ?? '';
      const [status, headers, body] = answers[db]!;
      res.writeHead(status, headers).end(body);
    });
    const expected: Record<string, [string, boolean]> = {
      s429: [STORE_ERROR_CODES.rateLimited, true],
      s503: [STORE_ERROR_CODES.server, true],
      s500: [STORE_ERROR_CODES.server, true],
      s401: [STORE_ERROR_CODES.unauthorized, true],
      s403: [STORE_ERROR_CODES.unauthorized, true],
      s413: [STORE_ERROR_CODES.tooLarge, false],
      s400: [STORE_ERROR_CODES.rejected, false],
    };
    try {
      for (const [db, [code, retryable]] of Object.entries(expected)) {
        const store = await open({ url: fake.url, database: db });
        const e = await rejection(store.write([r(0)]));
        expect([e.code, e.retryable, e.status], db).toEqual([code, retryable, answers[db]![0]]);
        expect(e.body!.length).toBeLessThanOrEqual(500);
        if (db === 's429') expect(e.retryAfterMs).toBe(7000);
      }
    } finally {
      await fake.close();
    }
  });

  it('a server that never answers is a retryable timeout within timeoutMs', async () => {
    const fake = await fakeInflux(() => {}); // accepts, never responds
    try {
      const store = await open({ url: fake.url, database: 'slow', timeoutMs: 300 });
      const started = Date.now();
      const e = await rejection(store.write([r(0)]));
      expect(e.code).toBe(STORE_ERROR_CODES.timeout);
      expect(e.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await rejection(store.count(ALL))).code).toBe(STORE_ERROR_CODES.timeout);
    } finally {
      await fake.close();
    }
  });

  it('statement errors and truncated answers are errors, never silent partial results', async () => {
    let body = '';
    const fake = await fakeInflux((_s, res) => res.writeHead(200).end(body));
    try {
      const store = await open({ url: fake.url, database: 'cnx' });
      body = '{"results":[{"statement_id":0,"error":"max-select-point limit exceeded"}]}';
      const e = await rejection(store.query({ ...ALL, limit: 10 }));
      expect(e.code).toBe(STORE_ERROR_CODES.queryFailed);
      expect(e.message).toContain('max-select-point limit exceeded');
      body =
        '{"results":[{"statement_id":0,"series":[{"name":"reading","columns":["time","qc"],"values":[[1,""]]}],"partial":true}]}';
      expect((await rejection(store.query({ ...ALL, limit: 10 }))).message).toMatch(/truncated/);
      body = 'not json';
      expect((await rejection(store.count(ALL))).code).toBe(STORE_ERROR_CODES.queryFailed);
    } finally {
      await fake.close();
    }
  });

  it('refuses contradictory auth settings at start', async () => {
    const store = await open({ url: 'http://127.0.0.1:1', database: 'x', token: 't', username: 'u' }, false);
    expect((await rejection(store.start())).code).toBe(STORE_ERROR_CODES.invalidConfig);
  });
});
