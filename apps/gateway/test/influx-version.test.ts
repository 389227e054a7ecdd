import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@cnx/runtime';
import { STORE_ERROR_CODES } from '@cnx/store';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config';
import { Gateway } from '../src/gateway';

// An InfluxDB 2.x as far as /ping goes; anything else is refused as 2.x refuses unauthenticated requests.
let server: Server;
let url = '';
let dir = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ping') res.writeHead(204, { 'x-influxdb-version': 'v2.7.11', 'x-influxdb-build': 'OSS' }).end();
    else res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await makeTempDir();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (dir) await removeDir(dir);
});

describe('gateway start against an InfluxDB its settings do not fit', () => {
  it('refuses to start, logging the server, the setting and the problem at error', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    });
    const config = loadGatewayConfig({
      CNX_DATA_DIR: dir,
      GATEWAY_HTTP_PORT: '0',
      INFLUX_URL: url,
      INFLUX_USERNAME: 'cnx', // 1.x credentials, a 2.x server
      INFLUX_PASSWORD: 'secret',
    });
    const gateway = new Gateway(config, createLogger('gateway-test', 'info', sink));
    const e = await gateway.start().then(
      () => undefined,
      (err: unknown) => err as { code?: string; message?: string },
    );
    await gateway.stop().catch(() => {});
    expect(e?.code).toBe(STORE_ERROR_CODES.invalidConfig);
    const logged = lines.find((l) => l.msg === 'influxdb server and configuration do not match');
    expect(logged).toMatchObject({
      level: 50,
      url,
      setting: 'auto',
      version: 'v2.7.11',
      build: 'OSS',
      problems: [
        'InfluxDB 2 authenticates with INFLUX_TOKEN (Authorization: Token), not INFLUX_USERNAME',
        "InfluxDB 2.x's v1-compatibility API needs INFLUX_TOKEN",
      ],
    });
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});
