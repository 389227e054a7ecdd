import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ API_RATE_LIMIT_MAX: '100000', API_EXPORT_RATE_LIMIT_MAX: '100000' });
});
afterAll(async () => {
  await t?.close();
});

const RANGE = 'from=2025-03-09T00:00:00Z&to=2025-03-10T00:00:00Z';
const OLD = 'station=cm-air-oldcity-01,cm-air-oldcity-02';
// 24 h x 6 readings per hour, two stations.
const ROWS = 2 * 24 * 6;

const exportOf = (q: string) => t.app.inject({ url: `/v1/exports/readings?${q}` });

/** The body read by a real RFC 4180 parser, strictly: equal column counts, CRLF only, no stray quotes. */
function csvRows(text: string): string[][] {
  return parse(text, {
    record_delimiter: '\r\n',
    relax_quotes: false,
    relax_column_count: false,
    skip_empty_lines: false,
  });
}

describe('exports', () => {
  it('CSV: RFC 4180, the header on the first line, units in the column names, no comment lines', async () => {
    const res = await exportOf(`${RANGE}&${OLD}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="cnx-chiang-mai-readings-20250309-20250310.csv"',
    );
    // The licence and the credit line travel in the headers (the file has no room for them).
    expect(res.headers.link).toContain('<https://creativecommons.org/licenses/by/4.0/>; rel="license"');
    expect(res.headers['x-data-licence']).toBe('CC-BY-4.0');
    expect(res.headers['x-data-attribution']).toBe('cnx-sense contributors, Chiang Mai city pack');
    const header = [
      'time',
      'station',
      'device',
      'district',
      'kind',
      'lat',
      'lon',
      'pm1_ugm3',
      'pm25_ugm3',
      'pm10_ugm3',
      'temperature_degc',
      'humidity_pct',
      'pm25_corrected_ugm3',
      'pm25_correction',
      'qc',
      'qc_metrics',
      'seq',
    ];
    // The first line is the header; every line ends in CRLF; no line is a comment.
    expect(res.body.slice(0, res.body.indexOf('\r\n'))).toBe(header.join(','));
    expect(res.body.endsWith('\r\n')).toBe(true);
    expect(res.body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(res.body.split('\r\n').some((l) => l.startsWith('#'))).toBe(false);
    const rows = csvRows(res.body);
    expect(rows[0]).toEqual(header);
    expect(rows).toHaveLength(ROWS + 1);
    const flagged = rows.slice(1).filter((r) => r[header.indexOf('qc')] !== '');
    expect(flagged).toEqual([]);
    // As a spreadsheet or pandas reads it: columns by header name.
    const records: Record<string, string>[] = parse(res.body, { columns: true, record_delimiter: '\r\n' });
    expect(records[0]).toMatchObject({
      time: '2025-03-09T00:00:00.000Z',
      station: 'cm-air-oldcity-01',
      kind: 'air',
      lat: '18.7904',
      lon: '98.9874',
      pm25_correction: 'epa-barkjohn-2021-extended@1',
    });
    // Numbers at each metric's precision (the seed's pm1 is pm25 x 0.7, unrounded).
    for (const r of records) {
      for (const [column, decimals] of [
        ['pm1_ugm3', 1],
        ['pm25_ugm3', 1],
        ['pm10_ugm3', 1],
        ['pm25_corrected_ugm3', 1],
        ['temperature_degc', 1],
      ] as const) {
        expect(r[column]).toMatch(new RegExp(`^-?\\d+(\\.\\d{1,${decimals}})?$`));
      }
    }
    expect(records[0]!.pm1_ugm3).toBe('34.7'); // 49.5 x 0.7 = 34.65, rounded half up
  });

  it('CSV: fields with commas or quotes are quoted as RFC 4180 says', async () => {
    await t.store.write([
      {
        city: 'chiang-mai',
        stationId: 'cm-air-oldcity-03',
        deviceId: 'cm-air-oldcity-03-pms',
        ts: Date.UTC(2025, 2, 9, 12, 5),
        values: { pm25: 12 },
        corrections: [{ metric: 'pm25', value: 9, method: 'odd, "method" #2' }],
        qc: ['range', 'spike'],
      },
    ]);
    const res = await exportOf('from=2025-03-09T12:00:00Z&to=2025-03-09T13:00:00Z&station=cm-air-oldcity-03');
    expect(res.body).toContain(',9,"odd, ""method"" #2",range|spike,');
    const records: Record<string, string>[] = parse(res.body, { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ pm25_correction: 'odd, "method" #2', qc: 'range|spike' });
  });

  it('JSON, NDJSON and GeoJSON carry the licence and the same readings', async () => {
    const json = await exportOf(`${RANGE}&${OLD}&format=json`);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    const doc = JSON.parse(json.body);
    expect(doc.meta.licence).toMatchObject({
      id: 'CC-BY-4.0',
      attribution: 'cnx-sense contributors, Chiang Mai city pack',
    });
    expect(doc.data).toHaveLength(ROWS);
    expect(doc.rows).toBe(ROWS);
    expect(doc.data[0]).toMatchObject({ ts: '2025-03-09T00:00:00.000Z', station: 'cm-air-oldcity-01' });

    const nd = await exportOf(`${RANGE}&${OLD}&format=ndjson`);
    expect(nd.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = nd.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].meta.licence.id).toBe('CC-BY-4.0');
    expect(lines.slice(1)).toEqual(doc.data);

    const geo = await exportOf(`${RANGE}&${OLD}&format=geojson`);
    expect(geo.headers['content-type']).toBe('application/geo+json; charset=utf-8');
    const fc = JSON.parse(geo.body);
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.licence.id).toBe('CC-BY-4.0');
    expect(fc.features).toHaveLength(ROWS);
    expect(fc.features[0].geometry).toEqual({ type: 'Point', coordinates: [98.9874, 18.7904] });
    expect(fc.features[0].properties).toMatchObject({
      station: 'cm-air-oldcity-01',
      kind: 'air',
      pm25_corrected: expect.any(Number),
    });
  });

  it('filters by kind, district, metrics and QC, and streams an empty selection as a valid file', async () => {
    const canal = JSON.parse(
      (await exportOf('from=2025-03-10T04:00:00Z&to=2025-03-10T05:00:00Z&kind=canal&format=json')).body,
    );
    expect(canal.meta.metrics).toEqual(['water_level', 'do', 'ph', 'turbidity', 'conductivity', 'water_temperature']);
    expect(canal.data).toHaveLength(12);
    const flagged = JSON.parse(
      (await exportOf(`from=2025-03-10T00:00:00Z&to=2025-03-10T05:00:00Z&${OLD}&qc=only-flagged&format=json`)).body,
    );
    expect(flagged.data.map((r: { qc: string[] }) => r.qc)).toEqual([['humidity'], ['humidity'], ['spike'], ['spike']]);
    const pm = JSON.parse((await exportOf(`${RANGE}&${OLD}&metrics=pm25&format=json`)).body);
    expect(Object.keys(pm.data[0].values)).toEqual(['pm25']);
    const none = await exportOf(`${RANGE}&district=cmu&format=json`);
    expect(JSON.parse(none.body)).toMatchObject({ data: [], rows: 0 });
  });

  it('streams a large export in pages (more readings than one store page)', async () => {
    const big = Array.from({ length: 12_000 }, (_, i) => ({
      city: 'chiang-mai',
      stationId: 'cm-air-cmu-02',
      deviceId: 'cm-air-cmu-02-pms',
      ts: Date.UTC(2025, 0, 1) + i * 60_000,
      values: { pm25: i % 100 },
      corrections: [],
      qc: [],
    }));
    await t.store.write(big);
    const res = await exportOf('from=2025-01-01&to=2025-02-01&station=cm-air-cmu-02&format=ndjson');
    expect(res.body.trimEnd().split('\n')).toHaveLength(12_001);
  });

  it('gives past exports an ETag and answers 304 without streaming again; recent ones are not cached', async () => {
    const first = await exportOf(`${RANGE}&${OLD}`);
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]+-288"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=3600');
    const again = await t.app.inject({
      url: `/v1/exports/readings?${RANGE}&${OLD}`,
      headers: { 'if-none-match': tag },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await exportOf(`${RANGE}&${OLD}&format=json`);
    expect(other.headers.etag).not.toBe(tag);
    const recent = await exportOf('from=2025-03-10T05:00:00Z&to=2025-03-10T05:30:00Z');
    expect(recent.headers.etag).toBeUndefined();
    expect(recent.headers['cache-control']).toBe('no-cache');
  });
});
