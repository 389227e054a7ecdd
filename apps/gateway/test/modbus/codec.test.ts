import { loadRegisterMap, WORD_ORDERS } from '@cnx/device-models';
import { describe, expect, it } from 'vitest';
import { decodePoll, planDevice, shortestFloat32 } from '../../src/modbus/codec';
import { classifyModbusError } from '../../src/modbus/errors';
import { bitsPerChar, interFrameMs } from '../../src/modbus/rtu-port';
import { DEFAULT_VALUES, RegisterImage } from './sim/register-image';

describe('planDevice', () => {
  it('reads the canal probe measurements and status in ONE request', () => {
    const plan = planDevice({ map: loadRegisterMap('cnx-canal-probe-v1'), diagnostics: false, maxGap: 0 });
    expect(plan.blocks.map((b) => [b.fn, b.address, b.length])).toEqual([[3, 0, 11]]);
    expect(plan.metrics.map((m) => m.metric).sort()).toEqual(
      ['battery', 'conductivity', 'do', 'ph', 'turbidity', 'water_level', 'water_temperature'].sort(),
    );
    expect(plan.statusRegister).toBe('status');
  });

  it('reads the diagnostics too when asked', () => {
    const plan = planDevice({ map: loadRegisterMap('cnx-canal-probe-v1'), diagnostics: true, maxGap: 1 });
    expect(plan.blocks.map((b) => [b.fn, b.address, b.length])).toEqual([
      [3, 0, 11],
      [3, 512, 1],
      [4, 256, 7],
    ]);
  });
});

describe('decodePoll', () => {
  it.each(WORD_ORDERS)('decodes what the device served, word order %s', (order) => {
    const map = loadRegisterMap('cnx-canal-probe-v1');
    const device = { map: { ...map, wordOrder: order }, diagnostics: false, maxGap: 0 };
    const plan = planDevice(device);
    const image = new RegisterImage(DEFAULT_VALUES, order, 'cnx-canal-probe-v1', { low_battery: true, cleaning: true });
    const words = plan.blocks.map((b) => image.read(b.fn, b.address, b.length));
    const d = decodePoll(plan, device.map, words);
    expect(d.values).toEqual({
      water_level: 1.234,
      water_temperature: 27.5,
      conductivity: 350,
      battery: 87.5,
      do: 6.8,
      ph: 7.2,
      turbidity: 12.5,
    });
    expect(d.status).toEqual({ raw: 0b110, active: ['low_battery', 'cleaning'] });
  });

  it('keeps NaN as NaN (the pipeline rejects it)', () => {
    const map = loadRegisterMap('cnx-canal-probe-v1');
    const plan = planDevice({ map, diagnostics: false, maxGap: 0 });
    const image = new RegisterImage({ ...DEFAULT_VALUES, do: Number.NaN });
    const d = decodePoll(plan, map, [image.read(3, 0, 11)]);
    expect(d.values.do).toBeNaN();
  });

  it('shows float32 at its own precision', () => {
    expect(shortestFloat32(Math.fround(7.2))).toBe(7.2);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(123456.7))).toBe(123456.7);
    expect(shortestFloat32(Math.fround(1e-7))).toBe(1e-7);
    expect(shortestFloat32(Number.NaN)).toBeNaN();
  });
});

describe('classifyModbusError', () => {
  it('maps modbus-serial errors to kinds', () => {
    const timeout = Object.assign(new Error('Timed out'), { errno: 'ETIMEDOUT' });
    expect(classifyModbusError(timeout).kind).toBe('timeout');
    const busy = classifyModbusError(Object.assign(new Error('Modbus exception 6'), { modbusCode: 6 }));
    expect([busy.kind, busy.exceptionCode, busy.retryable, busy.busy]).toEqual(['exception', 6, true, true]);
    const illegal = classifyModbusError(Object.assign(new Error('Modbus exception 2'), { modbusCode: 2 }));
    expect([illegal.kind, illegal.retryable]).toEqual(['exception', false]);
    expect(classifyModbusError(new Error('CRC error')).kind).toBe('crc');
    expect(classifyModbusError(new Error('Data length error, expected 27 got 5')).kind).toBe('frame');
    expect(classifyModbusError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).kind).toBe('connection');
  });
});

describe('serial line timing', () => {
  it('computes bits per character and t3.5 ("Modbus over serial line" 2.5.1.1)', () => {
    expect(bitsPerChar({ parity: 'none', dataBits: 8, stopBits: 1 })).toBe(10);
    expect(bitsPerChar({ parity: 'even', dataBits: 8, stopBits: 1 })).toBe(11);
    expect(interFrameMs({ baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 })).toBeCloseTo(3.646, 3);
    expect(interFrameMs({ baudRate: 115_200, parity: 'none', dataBits: 8, stopBits: 1 })).toBe(1.75);
  });
});
