/**
 * The check that the client matches the API: the served /openapi.json is turned into the generated
 * module again and compared with the committed one, and every operation of the document has a client
 * method that requests exactly its method and path (and no client method requests anything else).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPI3 } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentRoutes, GENERATED_FILE, REGENERATE_COMMAND, renderClientTypes } from '../scripts/openapi';
import { CnxApiClient, operationRoutes } from '../src/index';
import { type RunningApi, startApi } from './support';

let api: RunningApi;
let doc: OpenAPI3;
beforeAll(async () => {
  api = await startApi();
  const res = await fetch(`${api.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenAPI3;
});
afterAll(async () => {
  await api?.stop();
});

interface Recorded {
  method: string;
  path: string;
}

/** A client whose fetch records what it was asked and answers a plausible empty success. */
function recordingClient(): { client: CnxApiClient; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetchStub = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push({ method: init?.method ?? 'GET', path: decodeURIComponent(url.pathname) });
    const isStream = url.pathname === '/v1/stream';
    const body = isStream ? new ReadableStream({ start: (c) => c.close() }) : JSON.stringify({ meta: {}, data: [] });
    return new Response(body, {
      status: 200,
      headers: { 'content-type': isStream ? 'text/event-stream' : 'application/json' },
    });
  }) as typeof fetch;
  return { client: new CnxApiClient({ baseUrl: 'http://api.test', fetch: fetchStub }), calls };
}

/**
 * How each public client method is called in this check, and the operation it must request. A new
 * method without an entry here fails the check.
 */
const P = '{id}';
const TOKEN = 'a-subscription-token-0123456789';
const METHOD_CALLS: Record<string, { operation: string; call: (c: CnxApiClient) => unknown }> = {
  getMeta: { operation: 'getMeta', call: (c) => c.getMeta() },
  getHealth: { operation: 'getHealth', call: (c) => c.getHealth() },
  getMetrics: { operation: 'getMetrics', call: (c) => c.getMetrics() },
  listStations: { operation: 'listStations', call: (c) => c.listStations({ kind: 'air' }) },
  getStation: { operation: 'getStation', call: (c) => c.getStation(P) },
  listLatest: { operation: 'listLatest', call: (c) => c.listLatest() },
  allLatest: { operation: 'listLatest', call: (c) => c.allLatest({ kind: 'air' }) },
  allStations: { operation: 'listStations', call: (c) => c.allStations() },
  getStationLatest: { operation: 'getStationLatest', call: (c) => c.getStationLatest(P) },
  getStationSeries: { operation: 'getStationSeries', call: (c) => c.getStationSeries(P, { interval: '1h' }) },
  listStationReadings: { operation: 'listStationReadings', call: (c) => c.listStationReadings(P) },
  stationReadingPages: {
    operation: 'listStationReadings',
    call: async (c) => {
      for await (const _ of c.stationReadingPages(P)) break;
    },
  },
  listDistricts: { operation: 'listDistricts', call: (c) => c.listDistricts({ limit: 2, page: 2 }) },
  allDistricts: { operation: 'listDistricts', call: (c) => c.allDistricts() },
  getDistrict: { operation: 'getDistrict', call: (c) => c.getDistrict(P) },
  listCanalStations: { operation: 'listCanalStations', call: (c) => c.listCanalStations({ limit: 2 }) },
  allCanalStations: { operation: 'listCanalStations', call: (c) => c.allCanalStations() },
  getCanalStation: { operation: 'getCanalStation', call: (c) => c.getCanalStation(P) },
  exportReadings: {
    operation: 'exportReadings',
    call: (c) => c.exportReadings({ from: '2025-03-01', to: '2025-03-02' }),
  },
  exportRollups: {
    operation: 'exportRollups',
    call: (c) => c.exportRollups({ interval: '1h', from: '2025-03-01', to: '2025-03-02' }),
  },
  exportUrl: {
    operation: 'exportReadings',
    call: (c) => fetchUrl(c, c.exportUrl({ from: '2025-03-01', to: '2025-03-02' })),
  },
  streamReadings: { operation: 'streamReadings', call: (c) => openAndClose(c, 'streamReadings') },
  stream: { operation: 'streamReadings', call: (c) => openAndClose(c, 'stream') },
  flushCache: { operation: 'flushCache', call: (c) => c.flushCache() },
  getConfig: { operation: 'getConfig', call: (c) => c.getConfig() },
  listStaffAlerts: { operation: 'listStaffAlerts', call: (c) => c.listStaffAlerts() },
  acknowledgeAlert: { operation: 'acknowledgeAlert', call: (c) => c.acknowledgeAlert(P as never, { note: 'on it' }) },
  resolveAlert: { operation: 'resolveAlert', call: (c) => c.resolveAlert(P as never) },
  getAlertAudit: { operation: 'getAlertAudit', call: (c) => c.getAlertAudit(P as never) },
  listAlerts: { operation: 'listAlerts', call: (c) => c.listAlerts() },
  listAlertRules: { operation: 'listAlertRules', call: (c) => c.listAlertRules() },
  createSubscription: {
    operation: 'createSubscription',
    call: (c) => c.createSubscription({ channel: 'email', address: 'a@example.org' }),
  },
  confirmSubscription: { operation: 'confirmSubscription', call: (c) => c.confirmSubscription(TOKEN) },
  getSubscription: { operation: 'getSubscription', call: (c) => c.getSubscription(TOKEN) },
  updateSubscription: { operation: 'updateSubscription', call: (c) => c.updateSubscription(TOKEN, { lang: 'en' }) },
  deleteSubscription: { operation: 'deleteSubscription', call: (c) => c.deleteSubscription(TOKEN) },
  exportSubscriptionData: { operation: 'exportSubscriptionData', call: (c) => c.exportSubscriptionData(TOKEN) },
  eraseSubscriptionData: { operation: 'eraseSubscriptionData', call: (c) => c.eraseSubscriptionData(TOKEN) },
  unsubscribe: { operation: 'unsubscribe', call: (c) => c.unsubscribe(TOKEN) },
  getWebPushKey: { operation: 'getWebPushKey', call: (c) => c.getWebPushKey() },
  createReport: {
    operation: 'createReport',
    call: (c) => c.createReport({ lat: 18.79, lon: 98.99, category: 'smoke', text: 'smoke' }),
  },
  listReports: { operation: 'listReports', call: (c) => c.listReports() },
  reportPhotoUrl: { operation: 'getReportPhoto', call: (c) => fetchUrl(c, c.reportPhotoUrl(P as never)) },
  getReportPhoto: { operation: 'getReportPhoto', call: (c) => c.getReportPhoto(P as never) },
  listStaffReports: { operation: 'listStaffReports', call: (c) => c.listStaffReports({ status: 'pending' }) },
  getStaffReport: { operation: 'getStaffReport', call: (c) => c.getStaffReport(P as never) },
  getStaffReportPhoto: { operation: 'getStaffReportPhoto', call: (c) => c.getStaffReportPhoto(P as never) },
  approveReport: { operation: 'approveReport', call: (c) => c.approveReport(P as never) },
  rejectReport: { operation: 'rejectReport', call: (c) => c.rejectReport(P as never, { reason: 'spam' }) },
  mergeReport: { operation: 'mergeReport', call: (c) => c.mergeReport(P as never, { into: 1 }) },
  call: { operation: 'getStationLatest', call: (c) => c.call('getStationLatest', { path: { stationId: P } }) },
  url: { operation: 'getDistrict', call: (c) => fetchUrl(c, c.url('getDistrict', { path: { districtId: P } })) },
  clearEtagCache: { operation: '', call: (c) => c.clearEtagCache() },
};

/** Helpers that only build a URL: request it through the client's fetch so it is recorded. */
async function fetchUrl(c: CnxApiClient, url: string): Promise<void> {
  await (c as unknown as { fetchFn: typeof fetch }).fetchFn(url, { method: 'GET' });
}

async function openAndClose(c: CnxApiClient, method: 'stream' | 'streamReadings'): Promise<void> {
  let sub: { close(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method}: no request within 2 s`)), 2000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    sub = c[method](undefined, { open: done, error: done }, { transport: 'fetch' });
  });
  sub?.close();
}

describe('the client against the served OpenAPI document', () => {
  it('has generated types identical to what the served /openapi.json generates', async () => {
    const expected = await renderClientTypes(doc);
    const committed = readFileSync(GENERATED_FILE, 'utf8');
    if (committed !== expected) {
      const a = committed.split('\n');
      const b = expected.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      throw new Error(
        `src/generated/openapi.ts is out of date with the API's /openapi.json (first difference at line ${line + 1}:\n` +
          `  committed: ${a[line]}\n  served:    ${b[line]})\nRegenerate it: ${REGENERATE_COMMAND}`,
      );
    }
    expect(committed).toBe(expected);
  });

  it('would notice a changed document (a new parameter, a renamed operation)', async () => {
    const base = await renderClientTypes(doc);
    const changed = structuredClone(doc) as OpenAPI3 & { paths: Record<string, { get?: Record<string, unknown> }> };
    const latest = changed.paths['/v1/latest']!.get!;
    (latest.parameters as unknown[]).push({ in: 'query', name: 'since', schema: { type: 'string' } });
    expect(await renderClientTypes(changed)).not.toBe(base);
    latest.operationId = 'listLatestReadings';
    const renamed = await renderClientTypes(changed);
    expect(renamed).toContain('listLatestReadings: { method: "GET", path: "/v1/latest" }');
    expect(renamed).not.toContain('listLatest: {');
  });

  it('knows every operation of the document, with its method and path, and no other', () => {
    const served = documentRoutes(doc);
    expect(served.length).toBeGreaterThanOrEqual(17);
    const table = operationRoutes as Record<string, { method: string; path: string }>;
    for (const r of served) {
      expect(table[r.operationId], `operation ${r.operationId} (${REGENERATE_COMMAND})`).toEqual({
        method: r.method,
        path: r.path,
      });
    }
    expect(Object.keys(table).sort()).toEqual(served.map((r) => r.operationId).sort());
  });

  it('has a method for every operationId, and every method requests a real method and path', async () => {
    const served = documentRoutes(doc);
    // The client is split by concern into a chain of classes (transport.ts, client.reads.ts, client.civic.ts,
    // client.ts): its methods are those of every prototype up to Object's.
    const methods: string[] = [];
    for (let p = CnxApiClient.prototype; p !== Object.prototype; p = Object.getPrototypeOf(p))
      methods.push(...Object.getOwnPropertyNames(p).filter((m) => m !== 'constructor'));
    // Private helpers are prototype members too; the public ones are those in METHOD_CALLS.
    const privateNames = new Set(['json', 'remember', 'parseJson', 'ok', 'send']);
    const publicMethods = methods.filter((m) => !privateNames.has(m));
    expect(publicMethods.sort()).toEqual(Object.keys(METHOD_CALLS).sort());
    for (const r of served) expect(methods, `client method for ${r.operationId}`).toContain(r.operationId);

    for (const [name, spec] of Object.entries(METHOD_CALLS)) {
      const { client, calls } = recordingClient();
      await spec.call(client);
      if (spec.operation === '') {
        expect(calls, name).toEqual([]);
        continue;
      }
      const route = served.find((r) => r.operationId === spec.operation);
      expect(route, `${name} -> ${spec.operation}`).toBeDefined();
      expect(calls.length, `${name} made a request`).toBeGreaterThan(0);
      for (const c of calls) {
        expect(c, `${name} requests ${route!.method} ${route!.path}`).toEqual({
          method: route!.method,
          path: route!.path.replace(/\{\w+\}/g, P),
        });
      }
    }
  });

  it('is browser-safe: src/ imports nothing but its own modules (no node: built-ins, no packages)', () => {
    const dir = join(GENERATED_FILE, '..', '..');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(4);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)) {
        const spec = m[1] ?? m[2] ?? '';
        expect(spec.startsWith('./') || spec.startsWith('../'), `${f} imports ${spec}`).toBe(true);
      }
      expect(text, f).not.toMatch(/\b(process|Buffer|require)\s*[.(]/);
    }
  });
});
