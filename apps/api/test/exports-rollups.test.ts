import { deviceIntervalMs } from '@cnx/domain';
import { RollupRunner } from '@cnx/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY, HOUR, NOW, type TestApp, testApp } from './helpers';

let t: TestApp;
/** Raw reads of the store (aggregate, scan, query, count) while exporting. */
let rawReads = 0;

beforeAll(async () => {
  t = await testApp();
  await new RollupRunner(t.store, {
    city: CITY,
    offsetMs: -7 * HOUR,
    stations: t.pack.stations.map((s) => ({
      id: s.id,
      intervalsMs: t.pack.devices.filter((d) => d.stationId === s.id).map(deviceIntervalMs),
    })),
    rawRetentionMs: 90 * 24 * HOUR,
  }).run(NOW);
  for (const name of ['aggregate', 'scan', 'query', 'count'] as const) {
    const original = (t.store[name] as (...a: unknown[]) => unknown).bind(t.store);
    (t.store as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      rawReads++;
      return original(...a);
    };
  }
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1/exports/rollups (long ranges from the rollups)', () => {
  const range = 'from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z';

  it('gives the series buckets for every station and metric asked, reading no raw reading', async () => {
    rawReads = 0;
    const res = await t.app.inject({
      url: `/v1/exports/rollups?interval=1h&${range}&station=cm-air-oldcity-01,cm-air-nimman-01&metrics=pm25,pm25_corrected`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="cnx-chiang-mai-1h-20250309-20250310.json"');
    expect(rawReads).toBe(0);
    const file = res.json();
    expect(file.meta).toMatchObject({
      interval: '1h',
      rolledUpUntil: '2025-03-10T05:00:00.000Z',
      qc: 'usable',
      stations: ['cm-air-nimman-01', 'cm-air-oldcity-01'],
      metrics: ['pm25', 'pm25_corrected'],
      units: { pm25: 'ug/m3', pm25_corrected: 'ug/m3' },
    });
    expect(file.meta.licence.id).toBeTruthy();
    expect(file.rows).toBe(29 * 2 * 2);
    const series = (await t.app.inject({ url: `/v1/stations/cm-air-oldcity-01/series?interval=1h&${range}` })).json();
    const mine = file.data.filter(
      (d: { station: string; metric: string }) => d.station === 'cm-air-oldcity-01' && d.metric === 'pm25',
    );
    expect(mine.map(({ station: _, metric: __, ...b }: Record<string, unknown>) => b)).toEqual(series.data);
  });

  it('streams NDJSON (meta first) and answers If-None-Match with 304 while the rollups stay as they are', async () => {
    const url = '/v1/exports/rollups?interval=1h&format=ndjson&from=2025-03-10T00:00:00Z&to=2025-03-11&kind=canal';
    const res = await t.app.inject({ url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].meta.metrics).toEqual([
      'water_level',
      'do',
      'ph',
      'turbidity',
      'conductivity',
      'water_temperature',
    ]);
    // The canal probe's readings of the last two hours: the hours rolled up by NOW (05:30Z), sorted by metric.
    expect(
      lines.slice(1).map((l: { metric: string; start: string }) => `${l.metric} ${l.start.slice(11, 16)}`),
    ).toEqual(['do 03:00', 'do 04:00', 'ph 03:00', 'ph 04:00', 'water_level 03:00', 'water_level 04:00']);
    const again = await t.app.inject({ url, headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('refuses unknown metrics and ranges past API_SERIES_MAX_DAYS', async () => {
    const bad = await t.app.inject({ url: `/v1/exports/rollups?interval=1h&${range}&metrics=pm26` });
    expect(bad.statusCode).toBe(400);
    const long = await t.app.inject({ url: '/v1/exports/rollups?interval=1d&from=2012-01-01&to=2025-03-01' });
    expect([long.statusCode, long.json().error.code]).toEqual([400, 'range_too_large']);
  });
});
