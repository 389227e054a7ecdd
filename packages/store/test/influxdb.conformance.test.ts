/**
 * Request conformance for InfluxDB 2.x and 3 (no such server runs on our machines; 1.x is also
 * tested against a real influxd in influxdb.adapter.test.ts and the contract suite). A stand-in
 * (influx-standin.ts) checks each request against the shape these pages define and answers as
 * that version does:
 *
 * InfluxDB OSS 2.x
 * - 1.x compatibility API, authentication (`Authorization: Token <token>`; every request authenticated):
 *   https://docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/
 * - /write: `POST /write?db=&rp=&precision=` (ms allowed), line protocol body:
 *   https://docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/write/
 * - /query: `GET /query?db=&rp=&q=&epoch=` (epoch=ms): https://docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/query/
 * - v1-compatibility OpenAPI (POST /query takes raw InfluxQL, `application/vnd.influxql`; /write
 *   answers 401 when the bucket does not exist): https://docs.influxdata.com/influxdb/v2/api/v1-compatibility/
 * - DBRP mapping (a bucket gets a "virtual" `<bucket>/autogen` mapping; one DBRP per bucket):
 *   https://docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/dbrp/
 * - /api/v2 (GET /api/v2/orgs?org=, GET|POST /api/v2/buckets {orgID, name, retentionRules},
 *   GET|POST /api/v2/dbrps {orgID, bucketID, database, retention_policy, default}):
 *   https://docs.influxdata.com/influxdb/v2/api/ (tags Organizations, Buckets, DBRPs)
 * - /ping: 204 with `X-Influxdb-Build: OSS`, `X-Influxdb-Version: v2.7.x`; InfluxQL `CREATE DATABASE`
 *   answers 200 `{"results":[{"statement_id":0,"error":"not implemented: CREATE DATABASE"}]}`
 *   (InfluxQL in 2.x is read-only: https://docs.influxdata.com/influxdb/v2/query-data/influxql/,
 *   and the maintainers' answer in https://github.com/influxdata/influxdb/issues/22255).
 *
 * InfluxDB 3 Core / Enterprise
 * - v1-compatible /write and /query, /ping (200, JSON {version, revision}; `x-influxdb-version`,
 *   `x-influxdb-build: Core|Enterprise`; authenticated like every endpoint): the Core OpenAPI,
 *   https://docs.influxdata.com/influxdb3/core/api/ (operations PostV1Write, GetV1ExecuteQuery,
 *   PostExecuteV1Query with a JSON body, GetPing), rp "honored but discouraged: InfluxDB 3 doesn't
 *   use retention policies".
 * - Token, Bearer and Basic schemes on v1 endpoints: https://docs.influxdata.com/influxdb3/core/api/authentication/
 * - the database is created on the first write; tags and fields can't share a name:
 *   https://docs.influxdata.com/influxdb3/core/write-data/http-api/compatibility-apis/
 */
import type { Reading } from '@cnx/domain';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InfluxDbReadingStore,
  type InfluxDbStoreOptions,
  initInfluxStorage,
  STORE_ERROR_CODES,
  StoreError,
  type StoreLogger,
} from '../src/index';
import { type Major, PING_HEADERS, type StandIn, type StandInOptions, startStandIn } from './influx-standin';

const T0 = Date.UTC(2025, 2, 1, 6, 0, 0);
const ALL = { from: T0 - 86_400_000, to: T0 + 86_400_000 };
const r = (i: number): Reading => ({
  city: 'cnx',
  stationId: `s${i}`,
  deviceId: `d${i}`,
  ts: T0 + i * 1000,
  values: { pm25: 10 + i },
  corrections: [],
  qc: [],
});
/** The /query answer 1.x, 2.x and 3 give a SELECT of query(): one series, epoch=ms timestamps. */
const selectAnswer = () => ({
  results: [
    {
      statement_id: 0,
      series: [
        {
          name: 'reading',
          columns: ['time', 'qc', 'qc_metrics', 'seq', 'pm25', 'city', 'station', 'device'],
          values: [[T0, '', '', null, 10, 'cnx', 's0', 'd0']],
        },
      ],
    },
  ],
});

const open: Array<{ close(): Promise<void> } | InfluxDbReadingStore> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await ('stop' in x ? x.stop() : x.close());
});

async function standIn(o: StandInOptions): Promise<StandIn> {
  const s = await startStandIn({ select: selectAnswer, ...o });
  open.push(s);
  return s;
}
function store(s: StandIn, opts: Partial<InfluxDbStoreOptions>): InfluxDbReadingStore {
  const st = new InfluxDbReadingStore({ url: s.url, database: 'cnx', timeoutMs: 5000, ...opts });
  open.push(st);
  return st;
}
/** A logger that keeps what was logged at error. */
function errorLog(): StoreLogger & { errors: Array<{ obj: object; msg: string }> } {
  const errors: Array<{ obj: object; msg: string }> = [];
  const noop = () => {};
  return { debug: noop, info: noop, warn: noop, error: (obj, msg) => errors.push({ obj, msg }), errors };
}
async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(StoreError);
  return e as StoreError;
}
const requests = (s: StandIn) => s.seen.map((x) => `${x.method} ${x.path}`);
/** The reading lines of a write body (readings of 2025 are late: rollup_late marks follow them). */
const linesOf = (body: string) => body.split('\n').filter((l) => l.startsWith('reading,'));

describe('InfluxDB 2.x OSS through its v1-compatibility API', () => {
  async function v2Server(): Promise<StandIn> {
    const s = await standIn({ major: 2, token: 'tok-2' });
    s.v2.orgs.push({ id: '0a1b2c3d4e5f6a7b', name: 'city' });
    return s;
  }

  it('after the init step: detected from /ping, no CREATE DATABASE, Token auth, /write and GET /query as documented', async () => {
    const s = await v2Server();
    await initInfluxStorage({ url: s.url, token: 'tok-2', org: 'city', database: 'cnx' });
    const init = s.seen.length;
    const st = store(s, { token: 'tok-2', createDatabase: true }); // INFLUX_CREATE_DB defaults to true
    await st.start();
    await st.write([r(0), r(1), r(2)]);
    expect(await st.query({ ...ALL, stationIds: ['s0'], limit: 10 })).toEqual([{ ...r(0) }]);
    expect(s.problems).toEqual([]);

    const [ping, write, query, ...rest] = s.seen.slice(init);
    expect(rest).toEqual([]);
    expect([ping!.method, ping!.path, ping!.headers.authorization]).toEqual(['GET', '/ping', 'Token tok-2']);
    expect([write!.method, write!.path, write!.params]).toEqual(['POST', '/write', { db: 'cnx', precision: 'ms' }]);
    expect(write!.headers.authorization).toBe('Token tok-2');
    expect(write!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(linesOf(write!.body).map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)))).toEqual(
      [0, 1, 2].map((i) => r(i).ts),
    );
    expect(linesOf(write!.body)[0]).toBe(`reading,city=cnx,device=d0,station=s0 qc="",qc_metrics="",pm25=10 ${T0}`);
    expect([query!.method, query!.path, query!.body, query!.headers.authorization]).toEqual([
      'GET',
      '/query',
      '',
      'Token tok-2',
    ]);
    expect(Object.keys(query!.params).sort()).toEqual(['db', 'epoch', 'q']);
    expect(query!.params).toMatchObject({ db: 'cnx', epoch: 'ms' });
    expect(query!.params.q).toMatch(
      /^SELECT .* FROM "reading" WHERE time >= \d+ms AND time < \d+ms AND \("station" = 's0'\) LIMIT 10$/,
    );
    expect(s.seen.some((x) => /CREATE/i.test(`${x.params.q ?? ''}${x.body}`))).toBe(false);
  });

  it('INFLUX_RP selects the DBRP mapping: rp on /write and /query, FROM stays unqualified', async () => {
    const s = await v2Server();
    await initInfluxStorage({ url: s.url, token: 'tok-2', org: 'city', database: 'cnx', retentionPolicy: 'raw' });
    const st = store(s, { token: 'tok-2', retentionPolicy: 'raw' });
    await st.start();
    await st.write([r(0)]);
    await st.count(ALL);
    expect(s.problems).toEqual([]);
    const write = s.seen.find((x) => x.path === '/write')!;
    const query = s.seen.find((x) => x.path === '/query')!;
    expect(write.params).toEqual({ db: 'cnx', rp: 'raw', precision: 'ms' });
    expect(query.params).toMatchObject({ db: 'cnx', rp: 'raw', epoch: 'ms' });
    expect(query.params.q).toMatch(/^SELECT count\("qc"\) FROM "reading" WHERE /);
    expect(s.lines.get('cnx/raw')).toHaveLength(1);
  });

  it('INFLUX_ROLLUP_RP: rollups and their state go to their own DBRP mapping (a bucket kept for good), late marks with the readings', async () => {
    const s = await v2Server();
    await initInfluxStorage({ url: s.url, token: 'tok-2', org: 'city', database: 'cnx', retentionPolicy: 'raw' });
    await initInfluxStorage({
      url: s.url,
      token: 'tok-2',
      org: 'city',
      database: 'cnx',
      retentionPolicy: 'forever',
      bucket: 'cnx-rollups',
    });
    const st = store(s, { token: 'tok-2', retentionPolicy: 'raw', rollupRetentionPolicy: 'forever' });
    await st.start();
    await st.write([r(0)]); // a reading of 2025: late, so a rollup_late mark goes in the same request
    const row = {
      level: '1h' as const,
      city: 'cnx',
      stationId: 's0',
      metric: 'pm25',
      start: T0,
      mean: 1,
      min: 1,
      max: 1,
      count: 1,
      flagged: 0,
      expected: 60,
    };
    await st.replaceRollups({ level: '1h', city: 'cnx', from: T0, to: T0 + 3_600_000 }, [row]);
    await st.saveRollupState('cnx', { hour: T0, day: 0, lateCursor: 0, rawFrom: 0 });
    await st.lateHours('cnx', 0, Date.now());
    expect(await st.deleteRawBefore(T0)).toBe(false); // 2.x: the bucket's retention, set by the operator
    expect(s.problems).toEqual([]);
    const rp = (x: { params: Record<string, string | undefined> }) => x.params.rp;
    const writes = s.seen.filter((x) => x.path === '/write');
    expect(writes.map((w) => [rp(w), w.body.split('\n')[0]!.split(',')[0]])).toEqual([
      ['raw', 'reading'],
      ['forever', 'rollup'],
      ['forever', 'rollup_state'],
    ]);
    expect(writes[0]!.body).toContain('rollup_late,city=cnx,station=s0 ');
    const queries = s.seen
      .filter((x) => x.path === '/query')
      .map((q) => [rp(q), q.params.q!.match(/FROM "(\w+)"/)?.[1]]);
    expect(queries).toEqual([
      ['forever', 'rollup'],
      ['raw', 'rollup_late'],
    ]);
  });

  it('a 1.x configuration against a 2.x server stops the start loudly, before anything but /ping', async () => {
    const s = await v2Server();
    const log = errorLog();
    const st = store(s, { token: 'tok-2', version: '1', createDatabase: true, logger: log });
    const e = await rejection(st.start());
    expect([e.code, e.retryable]).toEqual([STORE_ERROR_CODES.invalidConfig, false]);
    expect(e.message).toContain('INFLUX_VERSION=1 but the server is InfluxDB 2');
    expect(log.errors).toEqual([
      {
        obj: expect.objectContaining({ setting: '1', version: 'v2.7.11', build: 'OSS' }),
        msg: 'influxdb server and configuration do not match',
      },
    ]);
    expect(requests(s)).toEqual(['GET /ping']);
  });

  it("behind a proxy that hides the /ping headers: auto refuses; INFLUX_VERSION=2 works; =1 meets 2.x's CREATE DATABASE error and names the fix", async () => {
    const s = await standIn({ major: 2, token: 'tok-2', ping: null });
    s.v2.dbrps.push({
      id: 'x',
      orgID: 'o',
      bucketID: 'b',
      database: 'cnx',
      retention_policy: 'autogen',
      default: true,
    });
    const auto = await rejection(store(s, { token: 'tok-2' }).start());
    expect(auto.code).toBe(STORE_ERROR_CODES.invalidConfig);
    expect(auto.message).toMatch(/cannot tell the InfluxDB version .* set INFLUX_VERSION to 1, 2 or 3/);

    const v2 = store(s, { token: 'tok-2', version: '2', createDatabase: true });
    await v2.start();
    await v2.write([r(0)]);
    expect(s.problems).toEqual([]);

    const token = await rejection(store(s, { token: 'tok-2', version: '1' }).start());
    expect(token.message).toContain('InfluxDB 1.x has no API tokens');

    // A 2.x that does not check credentials, taken for 1.x: its own answer to CREATE DATABASE stops the start.
    const lax = await standIn({ major: 2, ping: null });
    const log = errorLog();
    const e = await rejection(store(lax, { version: '1', createDatabase: true, logger: log }).start());
    expect([e.code, e.retryable]).toEqual([STORE_ERROR_CODES.invalidConfig, false]);
    expect(e.message).toMatch(
      /refused CREATE DATABASE, so it is not InfluxDB 1\.x: set INFLUX_VERSION=2 .*not implemented: CREATE DATABASE/,
    );
    expect(log.errors.map((x) => x.msg)).toEqual(['influxdb refused CREATE DATABASE']);
    expect(requests(lax)).toEqual(['GET /ping', 'POST /query']);
  });

  it('refuses 2.x settings it cannot work with: no token, a username', async () => {
    const s = await v2Server();
    const none = await rejection(store(s, {}).start());
    expect(none.message).toContain("InfluxDB 2.x's v1-compatibility API needs INFLUX_TOKEN");
    const user = await rejection(store(s, { username: 'u', password: 'p' }).start());
    expect(user.message).toContain('InfluxDB 2 authenticates with INFLUX_TOKEN');
    expect([none.code, user.code]).toEqual([STORE_ERROR_CODES.invalidConfig, STORE_ERROR_CODES.invalidConfig]);
    expect(new Set(requests(s))).toEqual(new Set(['GET /ping']));
  });
});

describe('InfluxDB 3 Core through its v1-compatible API', () => {
  it('detected from the authenticated /ping; the database appears with the first write; no rp, GET /query', async () => {
    const s = await standIn({ major: 3, token: 'tok-3' });
    const st = store(s, { token: 'tok-3', createDatabase: true });
    await st.start();
    // Before the first write the database does not exist (3 Core answers 404): retryable.
    const missing = await rejection(st.count(ALL));
    expect([missing.code, missing.retryable]).toEqual([STORE_ERROR_CODES.databaseNotFound, true]);
    await st.write([r(0), r(1)]);
    expect(await st.query({ ...ALL, limit: 5 })).toEqual([r(0)]);
    expect(s.problems).toEqual([]);
    expect(requests(s)).toEqual(['GET /ping', 'GET /query', 'POST /write', 'GET /query']);
    for (const x of s.seen) expect(x.headers.authorization).toBe('Token tok-3');
    const write = s.seen[2]!;
    expect(write.params).toEqual({ db: 'cnx', precision: 'ms' });
    expect(linesOf(write.body)).toHaveLength(2);
    expect(s.seen[3]!.params).toMatchObject({ db: 'cnx', epoch: 'ms' });
    expect(Object.keys(s.seen[3]!.params).sort()).toEqual(['db', 'epoch', 'q']);
    expect((await st.health()).detail).toBe('InfluxDB 3.3.0');
  });

  it('refuses a retention policy and a username; a wrong token is a retryable 401 at /ping', async () => {
    const s = await standIn({ major: 3, token: 'tok-3' });
    const rp = await rejection(store(s, { token: 'tok-3', retentionPolicy: 'autogen' }).start());
    expect(rp.message).toContain('InfluxDB 3 has no retention policies: unset INFLUX_RP');
    expect(rp.code).toBe(STORE_ERROR_CODES.invalidConfig);
    const wrong = await rejection(store(s, { token: 'nope' }).start());
    expect([wrong.code, wrong.retryable, wrong.status]).toEqual([STORE_ERROR_CODES.unauthorized, true, 401]);
    expect(new Set(requests(s))).toEqual(new Set(['GET /ping']));
  });
});

describe('InfluxDB 1.x request shapes (as the real influxd tests use them)', () => {
  it('Basic auth, CREATE DATABASE and SELECTs as POSTed forms, rp on /write and in FROM; a token is refused', async () => {
    const s = await standIn({ major: 1, basic: { username: 'cnx', password: 's3cret' } });
    const st = store(s, { username: 'cnx', password: 's3cret', retentionPolicy: 'one week', createDatabase: true });
    await st.start();
    await st.write([r(0)]);
    expect(await st.query({ ...ALL, limit: 1 })).toEqual([r(0)]);
    expect(s.problems).toEqual([]);
    expect(requests(s)).toEqual(['GET /ping', 'POST /query', 'POST /write', 'POST /query']);
    const forms = s.seen.filter((x) => x.path === '/query').map((x) => new URLSearchParams(x.body).get('q'));
    expect(forms[0]).toBe('CREATE DATABASE "cnx"');
    expect(forms[1]).toMatch(/ FROM "one week"\."reading" WHERE /);
    expect(s.seen[2]!.params).toEqual({ db: 'cnx', rp: 'one week', precision: 'ms' });
    const token = await rejection(store(s, { token: 't' }).start());
    expect(token.message).toContain('InfluxDB 1.x has no API tokens');
  });
});

describe('the init step (InfluxDB 2.x /api/v2)', () => {
  const v2Init = async (virtual = false) => {
    const s = await standIn({ major: 2, token: 'tok-2' });
    s.v2.orgs.push({ id: '0a1b2c3d4e5f6a7b', name: 'city' });
    s.v2.virtualDbrps = virtual;
    return s;
  };
  const posts = (s: StandIn) => s.seen.filter((x) => x.method === 'POST').map((x) => [x.path, JSON.parse(x.body)]);

  it('creates the bucket and the DBRP mapping with the documented bodies; a second run changes nothing', async () => {
    const s = await v2Init();
    const opts = { url: s.url, token: 'tok-2', org: 'city', database: 'cnx', bucket: 'cnx-air' };
    const first = await initInfluxStorage(opts);
    expect(s.problems).toEqual([]);
    const bucketID = s.v2.buckets[0]!.id;
    expect(first).toMatchObject({
      major: 2,
      orgID: '0a1b2c3d4e5f6a7b',
      bucket: { id: bucketID, name: 'cnx-air', created: true },
      dbrp: { database: 'cnx', retentionPolicy: 'autogen', created: true },
    });
    expect(requests(s)).toEqual([
      'GET /ping',
      'GET /api/v2/orgs',
      'GET /api/v2/buckets',
      'POST /api/v2/buckets',
      'GET /api/v2/dbrps',
      'POST /api/v2/dbrps',
    ]);
    expect(s.seen.map((x) => x.params)).toEqual([
      {},
      { org: 'city' },
      { orgID: '0a1b2c3d4e5f6a7b', name: 'cnx-air' },
      {},
      { orgID: '0a1b2c3d4e5f6a7b', db: 'cnx', rp: 'autogen' },
      {},
    ]);
    expect(posts(s)).toEqual([
      ['/api/v2/buckets', { orgID: '0a1b2c3d4e5f6a7b', name: 'cnx-air', retentionRules: [] }],
      [
        '/api/v2/dbrps',
        { orgID: '0a1b2c3d4e5f6a7b', bucketID, database: 'cnx', retention_policy: 'autogen', default: true },
      ],
    ]);
    for (const x of s.seen) expect(x.headers.authorization).toBe('Token tok-2');
    for (const x of s.seen.filter((y) => y.method === 'POST'))
      expect(x.headers['content-type']).toBe('application/json');

    const again = await initInfluxStorage(opts);
    expect(again).toMatchObject({ bucket: { id: bucketID, created: false }, dbrp: { created: false } });
    expect(posts(s)).toHaveLength(2);
    expect(s.problems).toEqual([]);
  });

  it("uses 2.x's virtual mapping when it fits, and maps another retention policy when asked", async () => {
    const s = await v2Init(true);
    const plain = await initInfluxStorage({ url: s.url, token: 'tok-2', org: 'city', database: 'cnx' });
    expect(plain).toMatchObject({ bucket: { created: true }, dbrp: { created: false } });
    const raw = await initInfluxStorage({
      url: s.url,
      token: 'tok-2',
      org: 'city',
      database: 'cnx',
      retentionPolicy: 'raw',
    });
    expect(raw).toMatchObject({ bucket: { created: false }, dbrp: { retentionPolicy: 'raw', created: true } });
    expect(posts(s).map(([p]) => p)).toEqual(['/api/v2/buckets', '/api/v2/dbrps']);
    expect(s.problems).toEqual([]);
  });

  it('refuses to rewire a mapping to another bucket, a missing or unknown organization', async () => {
    const s = await v2Init();
    s.v2.dbrps.push({
      id: 'm',
      orgID: '0a1b2c3d4e5f6a7b',
      bucketID: 'other',
      database: 'cnx',
      retention_policy: 'autogen',
      default: true,
    });
    const base = { url: s.url, token: 'tok-2', database: 'cnx' };
    const rewire = await rejection(initInfluxStorage({ ...base, org: 'city' }));
    expect(rewire.message).toMatch(/is mapped to bucket other, not "cnx"/);
    expect((await rejection(initInfluxStorage(base))).message).toContain('set INFLUX_ORG');
    expect((await rejection(initInfluxStorage({ ...base, org: 'town' }))).message).toContain(
      'no organization named "town"',
    );
    expect(s.v2.dbrps.map((m) => m.bucketID)).toEqual(['other']);
  });

  it.each([1, 3] as Major[])('has nothing to do on %s (only /ping is asked)', async (major) => {
    const s = await standIn({ major, ...(major === 3 ? { token: 't' } : {}) });
    const res = await initInfluxStorage({ url: s.url, database: 'cnx', ...(major === 3 ? { token: 't' } : {}) });
    expect(res).toEqual({ major, server: PING_HEADERS[major]['x-influxdb-version'], done: 'nothing' });
    expect(requests(s)).toEqual(['GET /ping']);
  });
});
