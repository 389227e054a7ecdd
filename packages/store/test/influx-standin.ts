/**
 * A stand-in for InfluxDB 1.x, 2.x OSS and 3 Core (node:http on 127.0.0.1) that checks every request
 * against the request shape the version's documentation defines (the pages are cited at the top of
 * influxdb.conformance.test.ts) and answers as that version does. A request that does not conform
 * is recorded in `problems` and answered 400 `{"error":"stand-in: …"}`, so the adapter fails too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Readings and the rollup measurements (influxdb.rollups.ts), tags in sorted order. */
const LINE =
  /^(reading,city=\S+,device=\S+,station=\S+|rollup_late,city=\S+,station=\S+|rollup,city=\S+,level=\S+,metric=\S+,station=\S+|rollup_state,city=\S+) \S.* \d{13}$/;

export type Major = 1 | 2 | 3;

export interface Seen {
  method: string;
  path: string;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface StandInOptions {
  major: Major;
  /** 2.x/3: the API token every request must carry as `Authorization: Token <token>`. */
  token?: string;
  /** 1.x: the user every request must carry as Basic auth. */
  basic?: { username: string; password: string };
  /** /ping headers; default the version's own. `null` sends none (a proxy, a hosted service). */
  ping?: Record<string, string> | null;
  /** The answer to every SELECT (a /query JSON body). */
  select?: () => unknown;
}

export interface V2State {
  orgs: Array<{ id: string; name: string }>;
  buckets: Array<{ id: string; orgID: string; name: string; retentionRules: unknown[] }>;
  dbrps: Array<{
    id: string;
    orgID: string;
    bucketID: string;
    database: string;
    retention_policy: string;
    default: boolean;
    virtual?: boolean;
  }>;
  /** 2.x OSS creates a "virtual" DBRP mapping `<bucket>/autogen` with every bucket (DBRP doc). */
  virtualDbrps: boolean;
}

export interface StandIn {
  url: string;
  seen: Seen[];
  problems: string[];
  /** Line-protocol lines written, per database. */
  lines: Map<string, string[]>;
  v2: V2State;
  close(): Promise<void>;
}

export const PING_HEADERS: Record<Major, Record<string, string>> = {
  1: { 'x-influxdb-version': '1.8.10', 'x-influxdb-build': 'OSS' },
  2: { 'x-influxdb-version': 'v2.7.11', 'x-influxdb-build': 'OSS' },
  3: { 'x-influxdb-version': '3.3.0', 'x-influxdb-build': 'Core' },
};

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

/** Keys of `params` outside `allowed`, or a required one missing. */
function paramProblems(p: Record<string, string>, allowed: string[], required: string[]): string[] {
  const out = Object.keys(p)
    .filter((k) => !allowed.includes(k))
    .map((k) => `unexpected parameter ${k}`);
  for (const k of required) if (!(k in p)) out.push(`missing parameter ${k}`);
  return out;
}

let ids = 0;
const newId = (): string => (0x0a00_0000_0000_0000n + BigInt(++ids)).toString(16);

export async function startStandIn(o: StandInOptions): Promise<StandIn> {
  const seen: Seen[] = [];
  const problems: string[] = [];
  const lines = new Map<string, string[]>();
  const v2: V2State = { orgs: [], buckets: [], dbrps: [], virtualDbrps: false };

  const authProblem = (s: Seen): string | undefined => {
    const auth = s.headers.authorization;
    if (o.major === 1) {
      if (!o.basic) return auth === undefined ? undefined : 'unexpected Authorization';
      const want = `Basic ${Buffer.from(`${o.basic.username}:${o.basic.password}`).toString('base64')}`;
      return auth === want ? undefined : `Authorization ${auth} is not Basic ${o.basic.username}:…`;
    }
    if (!o.token) return undefined; // 3 Core run --without-auth
    return auth === `Token ${o.token}` ? undefined : `Authorization ${JSON.stringify(auth)} is not "Token <token>"`;
  };

  const handle = (s: Seen, res: ServerResponse) => {
    const bad = (why: string[]) => {
      problems.push(...why.map((w) => `${s.method} ${s.path}: ${w}`));
      json(res, 400, { error: `stand-in: ${why.join('; ')}` });
    };
    if (s.path === '/ping') {
      if (s.method !== 'GET') return bad(['ping is GET']);
      const headers = o.ping === null ? {} : (o.ping ?? PING_HEADERS[o.major]);
      if (o.major !== 3) return void res.writeHead(204, headers).end();
      // 3 Core: authenticated like every endpoint; 200 with the version as JSON.
      if (authProblem(s)) return json(res, 401, { error: 'unauthorized' });
      return json(res, 200, { version: '3.3.0', revision: 'f3d3d3d' }, headers);
    }
    const denied = authProblem(s);
    if (denied && o.major === 2) return json(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
    if (denied) return bad([denied]);
    if (s.path === '/write') return write(s, res, bad);
    if (s.path === '/query') return query(s, res, bad);
    if (o.major === 2 && s.path.startsWith('/api/v2/')) return v2Api(s, res, bad);
    bad(['no such endpoint on this version']);
  };

  const write = (s: Seen, res: ServerResponse, bad: (w: string[]) => void) => {
    const allowed = o.major === 3 ? ['db', 'precision'] : ['db', 'rp', 'precision'];
    const why = paramProblems(s.params, allowed, ['db', 'precision']);
    if (s.method !== 'POST') why.push('write is POST');
    if (s.params.precision !== 'ms') why.push(`precision ${s.params.precision} (the timestamps are ms)`);
    if (s.headers['content-type'] !== 'text/plain; charset=utf-8')
      why.push(`content-type ${s.headers['content-type']}`);
    const body = s.body.split('\n').filter((l) => l !== '');
    for (const l of body) if (!LINE.test(l)) why.push(`line ${l}`);
    if (why.length > 0) return bad(why);
    const db = s.params.rp && o.major !== 3 ? `${s.params.db}/${s.params.rp}` : (s.params.db ?? '');
    if (
      o.major === 2 &&
      !v2.dbrps.some((m) => m.database === s.params.db && m.retention_policy === (s.params.rp ?? 'autogen'))
    ) {
      // The v1-compatibility OpenAPI: 401 also when "the organization and bucket do not exist".
      return json(res, 401, { code: 'unauthorized', message: `no bucket mapped to ${db}` });
    }
    // The `reading` points (late readings bring rollup_late marks beside them, influxdb.rollups.ts).
    lines.set(db, [...(lines.get(db) ?? []), ...body.filter((l) => l.startsWith('reading,'))]); // 3 Core: the database exists from its first write
    res.writeHead(204).end();
  };

  const query = (s: Seen, res: ServerResponse, bad: (w: string[]) => void) => {
    // A form body: 1.x; 2.x takes one too (the curl in influxdata/influxdb#22255), though its docs show GET.
    const form = s.method === 'POST' && s.headers['content-type'] === 'application/x-www-form-urlencoded';
    const q = form && o.major !== 3 ? new URLSearchParams(s.body).get('q') : s.params.q;
    const why: string[] = [];
    if (o.major === 1) {
      why.push(...paramProblems(s.params, ['db', 'epoch'], ['db', 'epoch']));
      if (!form) why.push('1.x: POST with a form body (CREATE needs POST)');
    } else {
      const allowed = o.major === 2 ? ['db', 'rp', 'q', 'epoch'] : ['db', 'q', 'epoch'];
      why.push(...paramProblems(s.params, allowed, form ? ['db', 'epoch'] : ['db', 'q', 'epoch']));
      if (s.method !== 'GET' && !(o.major === 2 && form)) why.push('3: POST takes a JSON body; use GET');
    }
    if (s.params.epoch !== 'ms') why.push(`epoch ${s.params.epoch}`);
    if (!q) why.push('no q');
    if (why.length > 0) return bad(why);
    if (/^CREATE DATABASE/i.test(q ?? '')) {
      if (o.major === 2)
        return json(res, 200, { results: [{ statement_id: 0, error: 'not implemented: CREATE DATABASE' }] });
      if (o.major === 3) return bad(['3 has no CREATE DATABASE in InfluxQL']);
      return json(res, 200, { results: [{ statement_id: 0 }] });
    }
    if (o.major === 3 && !lines.has(s.params.db ?? ''))
      return json(res, 404, { error: `database not found: ${s.params.db}` });
    json(res, 200, o.select?.() ?? { results: [{ statement_id: 0 }] });
  };

  const v2Api = (s: Seen, res: ServerResponse, bad: (w: string[]) => void) => {
    const p = s.params;
    const route = `${s.method} ${s.path}`;
    if (route === 'GET /api/v2/orgs') {
      const orgs = v2.orgs.filter((x) => p.org === undefined || x.name === p.org);
      if (p.org !== undefined && orgs.length === 0)
        return json(res, 404, { code: 'not found', message: `organization name "${p.org}" not found` });
      return json(res, 200, { orgs });
    }
    if (route === 'GET /api/v2/buckets') {
      return json(res, 200, {
        buckets: v2.buckets.filter((b) => (!p.orgID || b.orgID === p.orgID) && (!p.name || b.name === p.name)),
      });
    }
    if (route === 'GET /api/v2/dbrps') {
      const why = paramProblems(p, ['orgID', 'org', 'db', 'rp', 'bucketID', 'id', 'default'], ['orgID']);
      if (why.length > 0) return bad(why);
      const content = v2.dbrps.filter(
        (m) => m.orgID === p.orgID && (!p.db || m.database === p.db) && (!p.rp || m.retention_policy === p.rp),
      );
      return json(res, 200, { content });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(s.body) as Record<string, unknown>;
    } catch {
      return bad(['body is not JSON']);
    }
    const keys = Object.keys(body).sort().join(',');
    if (s.headers['content-type'] !== 'application/json') return bad([`content-type ${s.headers['content-type']}`]);
    if (route === 'POST /api/v2/buckets') {
      if (keys !== 'name,orgID,retentionRules' || !Array.isArray(body.retentionRules))
        return bad([`bucket body keys ${keys}`]);
      if (!v2.orgs.some((x) => x.id === body.orgID))
        return json(res, 404, { code: 'not found', message: 'organization not found' });
      if (v2.buckets.some((b) => b.name === body.name))
        return json(res, 422, { code: 'conflict', message: `bucket with name ${String(body.name)} already exists` });
      const bucket = {
        id: newId(),
        orgID: String(body.orgID),
        name: String(body.name),
        retentionRules: body.retentionRules as unknown[],
      };
      v2.buckets.push(bucket);
      if (v2.virtualDbrps) {
        const m = {
          id: newId(),
          orgID: bucket.orgID,
          bucketID: bucket.id,
          database: bucket.name,
          retention_policy: 'autogen',
          default: true,
          virtual: true,
        };
        v2.dbrps.push(m);
      }
      return json(res, 201, { ...bucket, type: 'user' });
    }
    if (route === 'POST /api/v2/dbrps') {
      if (keys !== 'bucketID,database,default,orgID,retention_policy') return bad([`dbrp body keys ${keys}`]);
      if (!v2.buckets.some((b) => b.id === body.bucketID && b.orgID === body.orgID))
        return json(res, 404, { code: 'not found', message: 'bucket not found' });
      const m = {
        id: newId(),
        orgID: String(body.orgID),
        bucketID: String(body.bucketID),
        database: String(body.database),
        retention_policy: String(body.retention_policy),
        default: body.default === true,
      };
      v2.dbrps = [
        ...v2.dbrps.filter((x) => !(x.database === m.database && x.retention_policy === m.retention_policy)),
        m,
      ];
      return json(res, 201, m);
    }
    bad(['not a call of the init step']);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const s: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        params: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      handle(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    problems,
    lines,
    v2,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
