import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInfluxInitCli } from '../src/cli/influx-init';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('influx-init CLI', () => {
  let influx: InfluxDBHandle;
  beforeAll(async () => {
    influx = await startInfluxDB({ database: 'init_cli' });
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('has nothing to prepare on a real InfluxDB 1.x; refuses SQLite and bad settings', async () => {
    const ok = capture();
    expect(await runInfluxInitCli([], ok.io, { INFLUX_URL: influx.url, INFLUX_DB: 'init_cli' })).toBe(0);
    expect(ok.out.join('\n')).toMatch(/^InfluxDB 1\.6\.7\S* at http:\/\/127\.0\.0\.1:\d+: nothing to prepare/);

    const sqlite = capture();
    expect(await runInfluxInitCli([], sqlite.io, {})).toBe(2);
    expect(sqlite.err.join('\n')).toContain('SQLite');

    const bad = capture();
    expect(await runInfluxInitCli([], bad.io, { INFLUX_URL: influx.url, INFLUX_VERSION: '4' })).toBe(2);
    expect(bad.err.join('\n')).toContain('INFLUX_VERSION="4"');

    const wrong = capture(); // told 2.x, the server says 1.x: refused, naming both
    expect(
      await runInfluxInitCli([], wrong.io, { INFLUX_URL: influx.url, INFLUX_VERSION: '2', INFLUX_TOKEN: 't' }),
    ).toBe(2);
    expect(wrong.err.join('\n')).toMatch(/STORE_INVALID_CONFIG.*INFLUX_VERSION=2 but the server is InfluxDB 1/);
  });

  it('passes INFLUX_ORG, INFLUX_BUCKET, INFLUX_DB and INFLUX_RP to the 2.x init step', async () => {
    // A minimal 2.x (the request shapes are checked in packages/store's conformance tests).
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${body}`);
        const json = (status: number, v: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
        const path = (req.url ?? '').split('?')[0];
        if (path === '/ping')
          return res.writeHead(204, { 'x-influxdb-version': 'v2.7.11', 'x-influxdb-build': 'OSS' }).end();
        if (path === '/api/v2/orgs') return json(200, { orgs: [{ id: 'o1', name: 'city' }] });
        if (req.method === 'GET') return json(200, path === '/api/v2/buckets' ? { buckets: [] } : { content: [] });
        if (path === '/api/v2/buckets') return json(201, { id: 'b1', name: JSON.parse(body).name });
        return json(201, { id: 'm1', ...JSON.parse(body) });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const env = {
        INFLUX_URL: url,
        INFLUX_TOKEN: 'tok',
        INFLUX_ORG: 'city',
        INFLUX_BUCKET: 'air',
        INFLUX_DB: 'cnx',
        INFLUX_RP: 'raw',
      };
      const c = capture();
      expect(await runInfluxInitCli([], c.io, env)).toBe(0);
      expect(c.out).toEqual([
        `InfluxDB v2.7.11 at ${url}, organization city (o1):`,
        '  bucket air (b1): created',
        '  DBRP cnx/raw -> air (m1): created',
      ]);
      expect(seen).toEqual([
        'GET /ping Token tok ',
        'GET /api/v2/orgs?org=city Token tok ',
        'GET /api/v2/buckets?orgID=o1&name=air Token tok ',
        'POST /api/v2/buckets Token tok {"orgID":"o1","name":"air","retentionRules":[]}',
        'GET /api/v2/dbrps?orgID=o1&db=cnx&rp=raw Token tok ',
        'POST /api/v2/dbrps Token tok {"orgID":"o1","bucketID":"b1","database":"cnx","retention_policy":"raw","default":true}',
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
