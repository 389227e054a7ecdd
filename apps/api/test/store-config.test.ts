import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@cnx/runtime';
import { STORE_ERROR_CODES } from '@cnx/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';

// An InfluxDB 2.x as far as /ping goes (204, X-Influxdb-Build: OSS, X-Influxdb-Version: v2.x).
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ping') res.writeHead(204, { 'x-influxdb-version': 'v2.7.11', 'x-influxdb-build': 'OSS' }).end();
    else res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the API and an InfluxDB its settings do not fit', () => {
  it('refuses to start (a 1.x configuration against a 2.x server) instead of retrying for ever', async () => {
    const config = loadApiConfig({ API_PORT: '0', API_LIVE: 'false', INFLUX_URL: url, INFLUX_USERNAME: 'reader' });
    const api = new ApiServer(config, createLogger('api-test', 'silent'));
    const e = await api.start().then(
      () => undefined,
      (err: unknown) => err as { code?: string; message?: string },
    );
    await api.stop();
    expect(e?.code).toBe(STORE_ERROR_CODES.invalidConfig);
    expect(e?.message).toContain('InfluxDB 2 authenticates with INFLUX_TOKEN');
  });
});
