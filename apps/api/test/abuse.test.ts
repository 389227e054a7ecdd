import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type TestApp, testApp } from './helpers';

let t: TestApp;
let doc: OpenAPIV3_1.Document;
beforeAll(async () => {
  // Thousands of requests from one address: the limit is tested on its own below.
  // Staff routes are on (an alerts service URL where nothing listens): hostile input must be refused
  // by validation before anything is forwarded (a forwarded request would answer 503).
  t = await testApp({
    API_RATE_LIMIT_MAX: '1000000',
    API_EXPORT_RATE_LIMIT_MAX: '1000000',
    API_ALERTS_URL: 'http://127.0.0.1:9',
  });
  doc = (await t.app.inject({ url: '/openapi.json' })).json();
});
afterAll(async () => {
  await t?.close();
});

/** Injection attempts and junk, sent (URL-encoded) as the value of every parameter of every route. */
const HOSTILE = [
  `x' OR 1=1 --`,
  `"; DROP MEASUREMENT reading; --`,
  `'; DROP TABLE readings; SELECT '`,
  '/',
  '\u0000',
  '../../etc/passwd',
  '/.*/',
  '*',
  'a'.repeat(5000),
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style probe, on purpose
  '${jndi:ldap://127.0.0.1/x}',
  'cm-air-oldcity-01\r\nSet-Cookie: x=1',
  'cm-air-oldcity-01,',
  '-1',
  '1e309',
  'NaN',
  'สถานี',
];

const VALID: Record<string, string> = { from: '2025-03-10T00:00:00Z', to: '2025-03-10T05:00:00Z', interval: '1h' };

interface Case {
  method: 'GET' | 'POST';
  url: string;
  param: string;
  value: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of ['get', 'post'] as const) {
      const op = item?.[method];
      if (!op) continue; // /v1/stream too: every hostile value is refused before the stream opens
      const params = (op.parameters ?? []) as (OpenAPIV3_1.ParameterObject & { example?: string })[];
      const valid = (p: (typeof params)[number]) => VALID[p.name] ?? p.example ?? 'x';
      for (const target of params.filter((p) => p.in === 'path' || p.in === 'query')) {
        for (const value of HOSTILE) {
          let url = path;
          const query = new URLSearchParams();
          for (const p of params) {
            const v = p === target ? value : valid(p);
            if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(v));
            else if (p.in === 'query' && (p.required || p === target)) query.set(p.name, v);
          }
          out.push({
            method: method.toUpperCase() as Case['method'],
            url: `${url}?${query}`,
            param: target.name,
            value,
          });
        }
      }
    }
  }
  return out;
}

describe('abuse', () => {
  it('answers every injection attempt in every parameter with a clear 4xx, never a 5xx', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(300);
    for (const c of all) {
      const headers: Record<string, string> = c.url.startsWith('/v1/staff/')
        ? { authorization: 'Bearer some-staff-token-0123456789' }
        : { 'x-api-key': ADMIN_KEY };
      const res = await t.app.inject({ method: c.method, url: c.url, headers });
      const label = `${c.method} ${c.url.slice(0, 120)} (${c.param}=${JSON.stringify(c.value).slice(0, 40)})`;
      expect([400, 404, 414], `${label}: ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(res.statusCode);
      const body = res.json();
      expect(body.error.code, label).toMatch(/^[a-z_]+$/);
      expect(body.error.message.length, label).toBeGreaterThan(5);
      if (res.statusCode === 400) {
        expect(
          body.error.details?.map((d: { parameter: string }) => d.parameter),
          label,
        ).toContain(c.param);
      }
      expect(res.headers['set-cookie'], label).toBeUndefined();
    }
    const health = await t.app.inject({ url: '/health' });
    expect(health.json().status).toBe('ok');
    expect((await t.app.inject({ url: '/v1/stations/cm-air-oldcity-01' })).statusCode).toBe(200);
  });

  it('refuses oversized ranges and huge pages, saying what is allowed', async () => {
    const expectAllowed = async (url: string, code: string, allowed: RegExp) => {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      const e = res.json().error;
      expect(e.code, url).toBe(code);
      expect(e.details[0].allowed, url).toMatch(allowed);
    };
    const s = '/v1/stations/cm-air-oldcity-01';
    await expectAllowed(`${s}/readings?limit=1000000000`, 'invalid_request', /integer from 1 to 10000/);
    await expectAllowed(`${s}/readings?limit=0`, 'invalid_request', /integer from 1 to 10000/);
    await expectAllowed(`${s}/readings?limit=2.5`, 'invalid_request', /integer/);
    await expectAllowed(`${s}/readings?from=2024-01-01&to=2025-01-01`, 'range_too_large', /31 days/);
    await expectAllowed(`${s}/series?from=2001-01-01&to=2099-01-01&interval=1d`, 'range_too_large', /3660 days/);
    await expectAllowed(`${s}/series?from=2025-01-01&to=2025-12-31&interval=5m`, 'range_too_large', /1h or 1d/);
    await expectAllowed('/v1/exports/readings?from=2023-01-01&to=2025-01-01', 'range_too_large', /366 days/);
    await expectAllowed(`${s}/series?from=2025-02-30`, 'invalid_time', /RFC 3339/);
    await expectAllowed(`${s}/series?from=2025-03-01T25:00:00Z`, 'invalid_time', /RFC 3339/);
    await expectAllowed(`${s}/series?from=2025-03-02&to=2025-03-01`, 'invalid_request', /before/);
    await expectAllowed(`${s}/series?interval=1w`, 'invalid_request', /one of auto, 5m, 1h, 1d/);
    await expectAllowed(`${s}/series?metric=co2`, 'invalid_request', /pm25_corrected/);
    await expectAllowed(`${s}/readings?metrics=pm25,co2`, 'invalid_request', /water_level/);
    // Several bad parameters: all reported at once.
    const res = await t.app.inject({ url: `${s}/readings?limit=-5&qc=sometimes&form=2025-01-01` });
    expect(
      res
        .json()
        .error.details.map((d: { parameter: string }) => d.parameter)
        .sort(),
    ).toEqual(['form', 'limit', 'qc']);
  });

  it('bounds request bodies and content types on the admin routes', async () => {
    const big = await t.app.inject({
      method: 'POST',
      url: '/admin/cache/flush',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'y'.repeat(100_000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    const odd = await t.app.inject({
      method: 'POST',
      url: '/admin/cache/flush',
      headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/x-evil' },
      payload: 'x',
    });
    expect(odd.statusCode).toBe(415);
    const anon = await t.app.inject({ method: 'POST', url: '/admin/cache/flush', payload: { x: 1 } });
    expect(anon.statusCode).toBe(401);
  });
});

describe('rate limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await testApp({ API_RATE_LIMIT_MAX: '5', API_EXPORT_RATE_LIMIT_MAX: '2', API_RATE_LIMIT_WINDOW_S: '60' });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('counts per client, announces x-ratelimit-* headers and answers 429 with Retry-After past the limit', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await limited.app.inject({ url: '/v1/stations', remoteAddress: '10.0.0.1' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => limited.app.inject({ url: '/v1/latest', remoteAddress: '10.0.0.1' })),
    );
    for (const res of burst) {
      expect(res.statusCode).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
      expect(res.json().error).toMatchObject({ code: 'rate_limited' });
      expect(res.json().error.message).toMatch(/retry in/);
    }
    // Another client is not affected; health and metrics are never limited.
    expect((await limited.app.inject({ url: '/v1/stations', remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
    const health = await limited.app.inject({ url: '/health', remoteAddress: '10.0.0.1' });
    expect(health.statusCode).toBe(200);
    expect(health.json().status).toBe('ok');
    expect((await limited.app.inject({ url: '/metrics', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
  });

  it('limits exports more strictly', async () => {
    const url = '/v1/exports/readings?from=2025-03-10T00:00:00Z&to=2025-03-10T01:00:00Z&station=cm-air-oldcity-01';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await limited.app.inject({ url, remoteAddress: '10.0.0.9' })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
