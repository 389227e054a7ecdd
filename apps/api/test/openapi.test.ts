import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from './helpers';

let t: TestApp;
let doc: OpenAPIV3_1.Document;
beforeAll(async () => {
  t = await testApp();
  doc = (await t.app.inject({ url: '/openapi.json' })).json();
});
afterAll(async () => {
  await t?.close();
});

type Op = OpenAPIV3_1.OperationObject;
type Param = OpenAPIV3_1.ParameterObject & { example?: string };

/** Valid values for parameters without a usable example (a range inside the seeded data). */
const VALUES: Record<string, string> = {
  from: '2025-03-10T00:00:00Z',
  to: '2025-03-10T05:00:00Z',
  interval: '1h',
};

/** GET operations whose 200 body is JSON (the SSE stream is tested in stream.test.ts). */
function jsonOperations(d: OpenAPIV3_1.Document): { path: string; op: Op }[] {
  const out: { path: string; op: Op }[] = [];
  for (const [path, item] of Object.entries(d.paths ?? {})) {
    const op = item?.get;
    if (op) out.push({ path, op });
  }
  return out;
}

function url(path: string, op: Op, extra: Record<string, string> = {}): string {
  let u = path;
  const query = new URLSearchParams();
  for (const p of (op.parameters ?? []) as Param[]) {
    const value = VALUES[p.name] ?? p.example;
    if (p.in === 'path') u = u.replace(`{${p.name}}`, String(value));
    else if (p.in === 'query' && p.required) query.set(p.name, String(value));
  }
  for (const [k, v] of Object.entries(extra)) query.set(k, v);
  const qs = query.toString();
  return qs ? `${u}?${qs}` : u;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (independent validator: @readme/openapi-parser)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.valid).toBe(true);
  });

  it('names the shared schemas as components and documents every public route', async () => {
    const names = Object.keys(doc.components?.schemas ?? {});
    for (const n of [
      'ErrorResponse',
      'Station',
      'StationLatest',
      'AqiIndex',
      'Series',
      'ReadingsPage',
      'LiveReading',
      'LiveAlert',
      'PublicAlert',
      'SubscriptionRequest',
      'Subscription',
      'PersonalDataExport',
    ]) {
      expect(names).toContain(n);
    }
    const paths = Object.keys(doc.paths ?? {});
    expect(paths.sort()).toEqual(
      [
        '/admin/cache/flush',
        '/admin/config',
        '/health',
        '/metrics',
        '/v1/canal',
        '/v1/canal/{stationId}',
        '/v1/districts',
        '/v1/districts/{districtId}',
        '/v1/exports/readings',
        '/v1/exports/rollups',
        '/v1/latest',
        '/v1/meta',
        '/v1/stations',
        '/v1/stations/{stationId}',
        '/v1/stations/{stationId}/latest',
        '/v1/stations/{stationId}/readings',
        '/v1/stations/{stationId}/series',
        '/v1/staff/alerts',
        '/v1/staff/alerts/{alertId}/ack',
        '/v1/staff/alerts/{alertId}/audit',
        '/v1/staff/alerts/{alertId}/resolve',
        '/v1/stream',
        '/v1/alerts',
        '/v1/alerts/rules',
        '/v1/subscriptions',
        '/v1/subscriptions/confirm',
        '/v1/subscriptions/webpush-key',
        '/v1/subscription',
        '/v1/subscription/data',
        '/v1/unsubscribe',
        '/v1/reports',
        '/v1/reports/{reportId}/photo',
        '/v1/staff/reports',
        '/v1/staff/reports/{reportId}',
        '/v1/staff/reports/{reportId}/photo',
        '/v1/staff/reports/{reportId}/approve',
        '/v1/staff/reports/{reportId}/reject',
        '/v1/staff/reports/{reportId}/merge',
      ].sort(),
    );
    // Every operation has a unique operationId (method names of generated clients).
    const ids = Object.values(doc.paths ?? {}).flatMap((item) =>
      [item?.get, item?.post, item?.patch, item?.delete].filter(Boolean).map((op) => (op as Op).operationId),
    );
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Every operation declares its error responses in the one error shape.
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const op of [item?.get, item?.post, item?.patch, item?.delete].filter(Boolean) as Op[]) {
        const responses = op.responses ?? {};
        expect(Object.keys(responses)).toContain('500');
        // /health answers 503 with its own Health body (status "down").
        for (const status of path === '/health' ? ['400', '404', '429'] : ['400', '404', '429', '503']) {
          const r = responses[status] as OpenAPIV3_1.ResponseObject | undefined;
          if (r) expect(JSON.stringify(r.content)).toContain('#/components/schemas/ErrorResponse');
        }
      }
    }
  });

  it('every GET route answers with a body matching its declared schema (200 and error statuses)', async () => {
    const resolved = (await dereference(structuredClone(doc))) as OpenAPIV3_1.Document;
    const checked: string[] = [];
    for (const { path, op } of jsonOperations(resolved)) {
      // The stream: stream.test.ts; staff, alert, subscription and report routes need a running alerts
      // service: staff.test.ts, alerts.test.ts, reports.test.ts.
      if (path === '/v1/stream' || /^\/v1\/(staff\/|alerts|subscription|reports)/.test(path)) continue;
      const headers = path.startsWith('/admin') ? { 'x-api-key': 'test-admin-key-0123456789abcdef' } : {};
      const res = await t.app.inject({ url: url(path, op), headers });
      expect(res.statusCode, `${path}: ${res.body.slice(0, 300)}`).toBe(200);
      const declared = op.responses?.['200'] as OpenAPIV3_1.ResponseObject;
      const [type, media] = Object.entries(declared.content ?? {})[0]!;
      expect(String(res.headers['content-type'])).toContain(type.split(';')[0]!.replace('application/json', 'json'));
      if (type === 'application/json') {
        const check = Compile(media.schema as never);
        expect(check.Check({ unexpected: true }), `${path}: the schema must bite`).toBe(false);
        const body = res.json();
        const errors = [...check.Errors(body)].slice(0, 5);
        expect(errors, `${path} 200 body vs schema`).toEqual([]);
      } else expect(res.body.length).toBeGreaterThan(0);
      checked.push(path);

      // And an error answer of the route, checked against its declared error schema.
      const bad = await t.app.inject({ url: url(path, op, { zzz: '1' }), headers });
      if (path === '/health' || path === '/metrics') continue; // monitoring tools may add parameters
      expect(bad.statusCode, path).toBe(400);
      const declared400 = op.responses?.['400'] as OpenAPIV3_1.ResponseObject | undefined;
      const errSchema = declared400?.content?.['application/json']?.schema;
      expect(errSchema, `${path} declares 400`).toBeDefined();
      expect([...Compile(errSchema as never).Errors(bad.json())], `${path} 400`).toEqual([]);
    }
    expect(checked.length).toBeGreaterThanOrEqual(15);
  });

  it('serves a self-contained reference page at /docs', async () => {
    const res = await t.app.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain("fetch('/openapi.json')");
    expect(res.body).not.toMatch(/<script[^>]+src=/); // no external script
  });
});
