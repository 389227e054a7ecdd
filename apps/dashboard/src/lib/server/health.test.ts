import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveness, readiness } from './health';

/** A real HTTP server standing in for the API's /readyz, answering `status`. */
function fakeApi(status: () => number): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? status() : 404, { 'content-type': 'application/json' }).end('{}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const base = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

describe('dashboard probes', () => {
  let code = 200;
  let api: Server;
  beforeAll(async () => {
    api = await fakeApi(() => code);
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  it('liveness answers without the API', () => {
    expect(liveness().status).toBe('ok');
  });

  it('ready while the API is ready; degraded when it answers 503 or nothing', async () => {
    code = 200;
    expect((await readiness(base(api))).status).toBe('ok');
    code = 503;
    const down = await readiness(`${base(api)}/`);
    expect(down).toMatchObject({ status: 'degraded', checks: { api: { ok: false, detail: 'API answered 503' } } });
    const closed = await fakeApi(() => 200);
    const url = base(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const gone = await readiness(url);
    expect(gone.status).toBe('degraded');
    expect(gone.checks.api.detail).toMatch(/^API not reachable/);
  });
});
