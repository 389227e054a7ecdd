import type { Reading } from '@cnx/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY, HOUR, MIN, NOW, type TestApp, testApp } from './helpers';

/**
 * The quality policy end to end over the API (issue: a humid night emptied the series and showed
 * "QC-flagged 100 %" while /v1/latest kept the readings). Every reading of a winter night in Chiang
 * Mai carries `humidity` (RH > 75 %): it annotates, it never empties a figure.
 */
const STATION = 'cm-air-cmu-01';
const DEVICE = 'cm-air-cmu-01-pms';

function humidNight(): Reading[] {
  const out: Reading[] = [];
  for (let t = NOW - 26 * HOUR; t < NOW; t += MIN) {
    const pm25 = 18 + ((t / MIN) % 5);
    out.push({
      city: CITY,
      stationId: STATION,
      deviceId: DEVICE,
      ts: t,
      values: { pm25, pm10: pm25 * 1.3, humidity: 92, temperature: 17 },
      corrections: [{ metric: 'pm25', value: Math.round(pm25 * 6) / 10, method: 'epa-barkjohn-2021-extended@1' }],
      qc: ['humidity'],
    });
  }
  // One wild reading a minute ago: a spike the gateway flagged.
  out.push({
    city: CITY,
    stationId: STATION,
    deviceId: DEVICE,
    ts: NOW - MIN / 2,
    values: { pm25: 1300, humidity: 92 },
    corrections: [{ metric: 'pm25', value: 1100, method: 'epa-barkjohn-2021-extended@1' }],
    qc: ['range', 'spike', 'humidity'],
  });
  return out;
}

let t: TestApp;
beforeAll(async () => {
  // The device reports every minute, as this pack says (intervalS); one variant says every 10 s.
  t = await testApp({}, true, (pack) => {
    pack.deviceById.get('cm-air-oldcity-01-pms')!.intervalS = 600;
  });
  await t.store.write(humidNight());
});
afterAll(async () => {
  await t?.close();
});

const get = async (url: string) => (await t.app.inject({ url })).json();

describe('quality policy over the API', () => {
  it('a humid night keeps its series, its values and a 0 % exclusion share', async () => {
    const from = new Date(NOW - 3.5 * HOUR).toISOString(); // 02:00, NOW is 05:30
    const series = await get(`/v1/stations/${STATION}/series?from=${from}&interval=1h`);
    expect(series.meta.qc).toBe('usable');
    expect(series.data.map((b: { count: number }) => b.count)).toEqual([60, 60, 60, 30]);
    const corrected = await get(`/v1/stations/${STATION}/series?from=${from}&interval=1h&metric=pm25_corrected`);
    expect(corrected.data).toHaveLength(4);
    // The spike is the only reading left out.
    expect(series.data.at(-1)).toMatchObject({ count: 30, flagged: 1 });
    expect(series.data[0].coverage).toEqual({ expectedCount: 60, observedCount: 60, percentComplete: 100 });

    const latest = await get(`/v1/stations/${STATION}/latest`);
    expect(latest.status.qc).toMatchObject({ readings: 1441, flagged: 1441, excluded: 1 });
    expect(latest.status.qc.excludedShare).toBe(0.0007); // 1 / 1441 at DECIMALS.share (issue 14)
    // The latest value is the newest usable reading, not the spike; the AQI is there.
    expect(latest.latest).toMatchObject({ ts: new Date(NOW - MIN).toISOString(), qc: ['humidity'], live: true });
    expect(latest.latest.ageSeconds).toBe(60);
    expect(latest.air.pm25.rolling24h.valid).toBe(true);
    expect(latest.air.aqi.th).toMatchObject({ averaging: 'rolling24h', official: true });
    expect(latest.air.aqi.band).toEqual(latest.air.aqi.th);
    expect(latest.air.pm25.hour1.value).toBeLessThan(30);
  });

  it('counts coverage at each device’s own cadence (the city pack’s intervalS)', async () => {
    // oldcity-01's device reports every 10 min in this pack variant, as the seed does: complete.
    const q = 'from=2025-03-10T02:00:00Z&to=2025-03-10T05:00:00Z&interval=1h&qc=include';
    const series = await get(`/v1/stations/cm-air-oldcity-01/series?${q}`);
    expect(series.meta.expectedIntervalSeconds).toBe(600);
    expect(series.data[0].coverage).toEqual({ expectedCount: 6, observedCount: 6, percentComplete: 100 });
    expect(series.meta.coverage).toEqual({ expectedCount: 18, observedCount: 18, percentComplete: 100 });
  });

  it('a frozen DO probe does not hide a canal station’s level, rise or status (flags per metric)', async () => {
    const station = 'cm-canal-padaet';
    const probe = t.pack.devices.find((d) => d.stationId === station)!.id;
    const readings: Reading[] = [];
    for (let i = 0; i < 40; i++)
      readings.push({
        city: CITY,
        stationId: station,
        deviceId: probe,
        ts: NOW - (40 - i) * MIN,
        values: { water_level: 1.5 + i * 0.01, do: 4.37, ph: 7.2 },
        corrections: [],
        qc: i >= 29 ? ['stuck'] : [],
        ...(i >= 29 ? { qcMetrics: ['do' as const] } : {}),
      });
    await t.store.write(readings);
    const latest = await get(`/v1/stations/${station}/latest`);
    expect(latest.latest).toMatchObject({ ts: new Date(NOW - MIN).toISOString(), qc: ['stuck'], qcMetrics: ['do'] });
    expect(latest.status.qc).toMatchObject({ readings: 40, flagged: 11, excluded: 0 });
    const canal = await get(`/v1/canal/${station}`);
    expect(canal.level.valueM).toBeCloseTo(1.89, 5);
    expect(canal.rise.samples).toBe(40);
    // The class is read without the frozen DO: from pH alone, marked partial.
    expect(canal.waterQuality).toMatchObject({ partial: true });
  });

  it('shows the Thai "now" band, labelled not official, before the 24-hour mean is valid', async () => {
    const fresh: Reading[] = [];
    for (let ts = NOW - 25 * MIN; ts < NOW; ts += MIN)
      fresh.push({
        city: CITY,
        stationId: 'cm-air-cmu-02',
        deviceId: 'cm-air-cmu-02-pms',
        ts,
        values: { pm25: 60, pm10: 80, humidity: 50 },
        corrections: [{ metric: 'pm25', value: 40, method: 'epa-barkjohn-2021-extended@1' }],
        qc: [],
      });
    await t.store.write(fresh);
    const body = await get('/v1/stations/cm-air-cmu-02/latest');
    expect(body.air.aqi.th).toBeNull();
    expect(body.air.pm25.nowcast).toBeNull();
    expect(body.air.aqi.now).toMatchObject({ scheme: 'th-pcd-2023', averaging: 'hour1', official: false });
    expect(body.air.aqi.now.concentration).toBe(40);
    expect(body.air.aqi.band).toEqual(body.air.aqi.now);
    expect(body.air.aqi.band.advice.general.th.length).toBeGreaterThan(0);
    // At a full hour, before a station's first reading of the new hour, the band stays: it falls
    // back to the hour before (NOW is 05:30; this station reported 04:10-04:50 only).
    const lastHour: Reading[] = [];
    for (let ts = NOW - 80 * MIN; ts <= NOW - 40 * MIN; ts += 5 * MIN)
      lastHour.push({
        city: CITY,
        stationId: 'cm-air-suandok-01',
        deviceId: 'cm-air-suandok-01-pms',
        ts,
        values: { pm25: 30 },
        corrections: [],
        qc: [],
      });
    await t.store.write(lastHour);
    const quiet = await get('/v1/stations/cm-air-suandok-01/latest');
    expect(quiet.air.pm25.hour1).toBeNull();
    expect(quiet.air.aqi.now).toMatchObject({ averaging: 'hour1', official: false, concentration: 30 });
    const meta = await get('/v1/meta');
    expect(meta.qcPolicy.find((p: { use: string }) => p.use === 'official').exclude).toContain('stale');
    expect(meta.qcPolicy.find((p: { use: string }) => p.use === 'export').exclude).toEqual([]);
    expect(meta.liveWindowSeconds).toBe(900);
  });
});
