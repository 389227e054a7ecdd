import { deviceIntervalMs } from '@cnx/domain';
import { RollupRunner } from '@cnx/store';
import { parse } from 'csv-parse/sync';
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

  it('CSV: RFC 4180, the header first, one line per station and hour, units in the column names, licence in headers', async () => {
    const q = `interval=1h&${range}&station=cm-air-oldcity-01,cm-air-nimman-01&metrics=pm25,pm25_corrected`;
    rawReads = 0;
    const res = await t.app.inject({ url: `/v1/exports/rollups?format=csv&${q}` });
    expect(res.statusCode).toBe(200);
    expect(rawReads).toBe(0);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="cnx-chiang-mai-1h-20250309-20250310.csv"');
    expect(res.headers.link).toContain('<https://creativecommons.org/licenses/by/4.0/>; rel="license"');
    expect(res.headers['x-data-licence']).toBe('CC-BY-4.0');
    expect(res.headers['x-data-attribution']).toBe('cnx-sense contributors, Chiang Mai city pack');
    expect(res.headers['x-rolled-up-until']).toBe('2025-03-10T05:00:00.000Z');
    const header = ['start', 'end', 'station'];
    for (const [m, unit] of [
      ['pm25', 'pm25'],
      ['pm25_corrected', 'pm25_corrected'],
    ]) {
      header.push(`${unit}_mean_ugm3`, `${unit}_min_ugm3`, `${unit}_max_ugm3`);
      header.push(`${m}_count`, `${m}_flagged`, `${m}_expected`, `${m}_complete_pct`);
    }
    expect(res.body.slice(0, res.body.indexOf('\r\n'))).toBe(header.join(','));
    expect(res.body.endsWith('\r\n')).toBe(true);
    expect(res.body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    // Read strictly by a real RFC 4180 parser: equal column counts, CRLF only, no stray quotes.
    const rows: string[][] = parse(res.body, {
      record_delimiter: '\r\n',
      relax_quotes: false,
      relax_column_count: false,
    });
    expect(rows[0]).toEqual(header);
    expect(rows).toHaveLength(29 * 2 + 1);
    // The same numbers as the JSON export, as a spreadsheet reads them (columns by name).
    const csv: Record<string, string>[] = parse(res.body, { columns: true, record_delimiter: '\r\n' });
    const json = (await t.app.inject({ url: `/v1/exports/rollups?${q}` })).json();
    for (const r of json.data) {
      const line = csv.find((c) => c.station === r.station && c.start === r.start);
      expect(line, `${r.station} ${r.start}`).toBeDefined();
      expect([
        line?.end,
        line?.[`${r.metric}_mean_ugm3`],
        line?.[`${r.metric}_min_ugm3`],
        line?.[`${r.metric}_max_ugm3`],
        line?.[`${r.metric}_count`],
        line?.[`${r.metric}_flagged`],
        line?.[`${r.metric}_expected`],
        line?.[`${r.metric}_complete_pct`],
      ]).toEqual(
        [r.end, r.mean, r.min, r.max, r.count, r.flagged, r.coverage.expectedCount, r.coverage.percentComplete].map(
          String,
        ),
      );
    }
    expect(csv.map((c) => `${c.station} ${c.start?.slice(0, 13)}`).slice(0, 2)).toEqual([
      'cm-air-nimman-01 2025-03-09T00',
      'cm-air-nimman-01 2025-03-09T01',
    ]);
  });

  it('CSV: a metric without a bucket where another has one gets empty fields; pH has no unit', async () => {
    const url = '/v1/exports/rollups?interval=1h&format=csv&from=2025-03-10T00:00:00Z&to=2025-03-11&kind=canal';
    const res = await t.app.inject({ url });
    expect(res.statusCode).toBe(200);
    const csv: Record<string, string>[] = parse(res.body, { columns: true, record_delimiter: '\r\n' });
    expect(Object.keys(csv[0] ?? {})).toContain('ph_mean');
    expect(Object.keys(csv[0] ?? {})).toContain('water_level_mean_m');
    expect(csv.map((c) => c.start?.slice(11, 16))).toEqual(['03:00', '04:00']);
    // The probe does not measure turbidity: the columns are there, empty.
    expect(csv.map((c) => [c.turbidity_mean_ntu, c.turbidity_count])).toEqual([
      ['', ''],
      ['', ''],
    ]);
    expect(csv.every((c) => c.do_mean_mgl !== '' && c.ph_mean !== '')).toBe(true);
  });

  it('refuses unknown metrics and ranges past API_SERIES_MAX_DAYS', async () => {
    const bad = await t.app.inject({ url: `/v1/exports/rollups?interval=1h&${range}&metrics=pm26` });
    expect(bad.statusCode).toBe(400);
    const long = await t.app.inject({ url: '/v1/exports/rollups?interval=1d&from=2012-01-01&to=2025-03-01' });
    expect([long.statusCode, long.json().error.code]).toEqual([400, 'range_too_large']);
  });
});
