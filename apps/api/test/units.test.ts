import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/errors';
import { describeAllowed } from '../src/plugins/errors.plugin';
import { hoistComponents } from '../src/plugins/swagger.plugin';
import { ViewCache } from '../src/services/cache';
import { districtTrend } from '../src/services/district.service';
import { decodeCursor, encodeCursor } from '../src/services/series.service';
import { StreamRegistry } from '../src/services/streams';
import { parseTime, timeZoneOffsetMs } from '../src/util/time';

const BKK = 7 * 3_600_000;
const H = 3_600_000;

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof ApiError ? e.code : 'other';
  }
  return undefined;
};

describe('time parameters', () => {
  it('reads RFC 3339 date-times with offsets, and plain dates as local midnight', () => {
    expect(parseTime('from', '2025-03-01T13:00:00+07:00', BKK)).toBe(Date.UTC(2025, 2, 1, 6));
    expect(parseTime('from', '2025-03-01T06:00:00Z', BKK)).toBe(Date.UTC(2025, 2, 1, 6));
    expect(parseTime('from', '2025-03-01T06:00:00.250Z', BKK)).toBe(Date.UTC(2025, 2, 1, 6, 0, 0, 250));
    expect(parseTime('from', '2025-03-01T06:00Z', BKK)).toBe(Date.UTC(2025, 2, 1, 6));
    expect(parseTime('from', '2025-03-01', BKK)).toBe(Date.UTC(2025, 1, 28, 17));
    expect(parseTime('from', '2024-02-29', 0)).toBe(Date.UTC(2024, 1, 29));
  });

  it('refuses impossible dates and times, missing offsets and out-of-range years', () => {
    for (const bad of [
      '2025-02-29',
      '2025-13-01',
      '2025-04-31',
      '2025-03-01T24:00:00Z',
      '2025-03-01T12:60:00Z',
      '2025-03-01T12:00:00',
      '2025-03-01t12:00:00z',
      '1999-12-31T00:00:00Z',
      '2150-01-01',
      '1741000000000',
    ]) {
      expect(
        code(() => parseTime('from', bad, BKK)),
        bad,
      ).toBe('invalid_time');
    }
  });

  it('knows the Bangkok offset', () => {
    expect(timeZoneOffsetMs('Asia/Bangkok')).toBe(BKK);
    expect(timeZoneOffsetMs('UTC')).toBe(0);
  });
});

describe('cursors', () => {
  it('round-trip and are bound to their station', () => {
    const key = { ts: 1_741_000_000_000, city: 'chiang-mai', stationId: 's-1', deviceId: 'd-1' };
    const c = encodeCursor(key);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, 'chiang-mai', 's-1')).toEqual(key);
    expect(code(() => decodeCursor(c, 'chiang-mai', 's-2'))).toBe('invalid_cursor');
    const evil = Buffer.from(JSON.stringify([1, 'chiang-mai', 's-1', 'a\nb'])).toString('base64url');
    expect(code(() => decodeCursor(evil, 'chiang-mai', 's-1'))).toBe('invalid_cursor');
    expect(code(() => decodeCursor('not-json', 'chiang-mai', 's-1'))).toBe('invalid_cursor');
  });
});

describe('district trend', () => {
  const now = Date.UTC(2025, 2, 1, 6, 30);
  const hour = (k: number, mean: number) => ({ hourStart: Date.UTC(2025, 2, 1, 6) - k * H, mean, count: 6 });
  it('is the slope of the district mean over the last three hourly means', () => {
    const rising = districtTrend(
      [
        [hour(2, 20), hour(1, 30), hour(0, 40)],
        [hour(2, 40), hour(1, 50), hour(0, 60)],
      ],
      now,
    );
    expect(rising.direction).toBe('rising');
    expect(rising.ratePerHour).toBeCloseTo(10, 9);
    expect(districtTrend([[hour(2, 30), hour(1, 29), hour(0, 29.5)]], now).direction).toBe('steady');
    expect(districtTrend([[hour(1, 80), hour(0, 50)]], now).direction).toBe('falling');
    expect(districtTrend([[hour(0, 50)]], now)).toEqual({ direction: 'unknown', ratePerHour: null });
    expect(districtTrend([], now)).toEqual({ direction: 'unknown', ratePerHour: null });
  });
});

describe('small parts', () => {
  it('describes what a parameter allows', () => {
    expect(describeAllowed({ enum: ['a', 'b'] })).toBe('one of a, b');
    expect(describeAllowed({ type: 'integer', minimum: 1, maximum: 10 })).toBe('an integer from 1 to 10');
    expect(describeAllowed({ type: 'string', description: 'an id', maxLength: 63 })).toBe(
      'an id (at most 63 characters)',
    );
  });

  it('hoists titled schemas into named components', () => {
    const inner = { title: 'Inner', type: 'object', properties: { x: { type: 'number' } } };
    const doc = hoistComponents({
      paths: {
        '/a': {
          get: {
            responses: {
              200: {
                content: { 'application/json': { schema: { title: 'Outer', type: 'object', properties: { inner } } } },
              },
            },
          },
        },
      },
    });
    expect(JSON.stringify(doc.paths)).toContain('"$ref":"#/components/schemas/Outer"');
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    expect(schemas.Outer).toEqual({
      title: 'Outer',
      type: 'object',
      properties: { inner: { $ref: '#/components/schemas/Inner' } },
    });
    expect(schemas.Inner).toEqual(inner);
  });

  it('caches views for their TTL with one computation for concurrent misses, not failures', async () => {
    let t = 0;
    let calls = 0;
    const cache = new ViewCache(1000, () => t);
    const compute = async () => ++calls;
    expect(await Promise.all([cache.get('k', compute), cache.get('k', compute)])).toEqual([1, 1]);
    t = 999;
    expect(await cache.get('k', compute)).toBe(1);
    t = 1000;
    expect(await cache.get('k', compute)).toBe(2);
    await expect(cache.get('bad', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await cache.get('bad', compute)).toBe(3);
    expect(cache.flush()).toBe(2);
  });

  it('bounds streams in total and per client', () => {
    const r = new StreamRegistry(3, 2);
    const a1 = r.acquire('a', () => undefined);
    const a2 = r.acquire('a', () => undefined);
    expect(r.acquire('a', () => undefined)).toBe('client');
    const b1 = r.acquire('b', () => undefined);
    expect(r.acquire('c', () => undefined)).toBe('full');
    for (const release of [a1, a2, b1]) if (typeof release === 'function') release();
    expect(r.size).toBe(0);
    expect(typeof r.acquire('a', () => undefined)).toBe('function');
  });
});
