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

/** A minimal RFC 4180 line splitter (our fields never hold line breaks). */
function csvRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const out: string[] = [];
      let cur = '';
      let quoted = false;
      for (let i = 0; i < l.length; i++) {
        const c = l[i]!;
        if (quoted) {
          if (c === '"' && l[i + 1] === '"') {
            cur += '"';
            i++;
          } else if (c === '"') quoted = false;
          else cur += c;
        } else if (c === '"') quoted = true;
        else if (c === ',') {
          out.push(cur);
          cur = '';
        } else cur += c;
      }
      out.push(cur);
      return out;
    });
}

describe('exports', () => {
  it('CSV: licence and attribution in # comment lines, a header row, one row per reading, a row count', async () => {
    const res = await exportOf(`${RANGE}&${OLD}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="cnx-chiang-mai-readings-20250309-20250310.csv"',
    );
    expect(res.headers.link).toContain('<https://creativecommons.org/licenses/by/4.0/>; rel="license"');
    const lines = res.body.split('\n');
    expect(lines[1]).toBe('# licence: CC-BY-4.0 https://creativecommons.org/licenses/by/4.0/');
    expect(lines[2]).toBe('# attribution: cnx-sense contributors, Chiang Mai city pack');
    expect(res.body).toContain("comment='#'");
    const rows = csvRows(res.body);
    const header = rows[0]!;
    expect(header).toEqual([
      'time',
      'station',
      'device',
      'district',
      'kind',
      'lat',
      'lon',
      'pm1',
      'pm25',
      'pm10',
      'temperature',
      'humidity',
      'pm25_corrected',
      'pm25_correction',
      'qc',
      'qc_metrics',
      'seq',
    ]);
    expect(rows).toHaveLength(ROWS + 1);
    expect(rows.every((r) => r.length === header.length)).toBe(true);
    // No data field holds '#': pandas' comment='#' cannot cut a row short.
    expect(rows.slice(1).some((r) => r.some((f) => f.includes('#')))).toBe(false);
    expect(res.body.trimEnd().split('\n').at(-1)).toBe(`# rows: ${ROWS}`);
    const flagged = rows.slice(1).filter((r) => r[header.indexOf('qc')] !== '');
    expect(flagged.map((r) => r[header.indexOf('qc')]).sort()).toEqual([]);
    const first = Object.fromEntries(header.map((h, i) => [h, rows[1]![i]]));
    expect(first).toMatchObject({ time: '2025-03-09T00:00:00.000Z', station: 'cm-air-oldcity-01', kind: 'air' });
    expect(first.pm25_correction).toBe('epa-barkjohn-2021-extended@1');
  });

  it("CSV: quotes fields with commas, quotes or # (pandas comment='#' honours quotes)", async () => {
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
    const row = res.body.split('\n').find((l) => l.startsWith('2025-03-09T12:05'))!;
    expect(row).toContain(',9,"odd, ""method"" #2",range|spike,');
    expect(csvRows(res.body)[1]).toContain('odd, "method" #2');
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
