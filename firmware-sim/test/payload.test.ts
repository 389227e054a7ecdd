import type { SenmlPack, TelemetryPayload } from '@cnx/protocol';
import { describe, expect, it } from 'vitest';
import { encodeReading, type SimReading } from '../src/devices/payload';
import { pmsFrame } from '../src/faults/malformed-payloads';

const reading: SimReading = {
  deviceId: 'cm-air-oldcity-01-pms',
  seq: 42,
  ts: 1773529203951,
  values: { pm1: 20.1, pm25: 31.4, pm10: 40.2, temperature: 29.5, humidity: 61 },
  units: { pm1: 'ug/m3', pm25: 'ug/m3', pm10: 'ug/m3', temperature: 'Cel', humidity: '%RH' },
  fw: 'fw/1',
};

describe('payload encoding', () => {
  it('encodes our JSON telemetry (integer epoch ms ts, seq, values)', () => {
    const p = JSON.parse(encodeReading('json', reading)) as TelemetryPayload;
    expect(p).toEqual({ ts: 1773529203951, seq: 42, values: reading.values, fw: 'fw/1' });
    expect(Number.isInteger(p.ts)).toBe(true);
  });

  it('encodes RFC 8428 SenML with base name, base time in seconds and SenML units', () => {
    const pack = JSON.parse(encodeReading('senml', reading)) as SenmlPack;
    expect(pack[0]).toEqual({
      bn: 'urn:dev:cnx:cm-air-oldcity-01-pms:',
      bt: 1773529203.951,
      n: 'pm1',
      u: 'ug/m3',
      v: 20.1,
    });
    expect(pack.slice(1)).toEqual([
      { n: 'pm25', u: 'ug/m3', v: 31.4 },
      { n: 'pm10', u: 'ug/m3', v: 40.2 },
      { n: 'temperature', u: 'Cel', v: 29.5 },
      { n: 'humidity', u: '%RH', v: 61 },
    ]);
  });

  it('builds a valid PMS5003 frame for the binary garbage kind', () => {
    const f = pmsFrame({ pm1: 20, pm25: 31, pm10: 40 });
    const dv = new DataView(f.buffer);
    expect(dv.getUint16(2)).toBe(28);
    expect([dv.getUint16(4), dv.getUint16(6), dv.getUint16(8)]).toEqual([20, 31, 40]);
    let sum = 0;
    for (let i = 0; i < 30; i++) sum += f[i] as number;
    expect(dv.getUint16(30)).toBe(sum);
  });
});
