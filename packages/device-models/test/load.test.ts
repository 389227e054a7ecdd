import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRIC_IDS } from '@cnx/domain';
import { Settings } from 'typebox/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadRegisterMap,
  parseRegisterMap,
  RegisterMapError,
  type RegisterMapIssue,
  registerMapIds,
  registerMaps,
} from '../src/index';

const valid = {
  id: 'test-probe',
  vendor: 'test',
  description: 'test map',
  wordOrder: 'ABCD',
  registers: [
    {
      name: 'level',
      metric: 'water_level',
      address: 0,
      fn: 3,
      type: 'int16',
      scale: 0.001,
      unit: 'm',
      description: 'l',
    },
    { name: 'status', address: 1, fn: 3, type: 'uint16', description: 's' },
  ],
  status: { register: 'status', bits: { probe_fault: 0 } },
};

function issuesOf(doc: unknown, id?: string): RegisterMapIssue[] {
  const r = parseRegisterMap(doc, id);
  if (r.ok) throw new Error('expected the map to be invalid');
  return r.error;
}

describe('shipped register maps', () => {
  it('all load and validate', () => {
    const maps = registerMaps();
    expect(maps.map((m) => m.id)).toEqual(registerMapIds());
    expect(registerMapIds()).toEqual(['cnx-canal-probe-v1', 'rs485-do-probe-v1', 'rs485-ph-probe-v1']);
  });

  it('cnx-canal-probe-v1 covers every canal metric with both scaled int16 and float32 registers', () => {
    const map = loadRegisterMap('cnx-canal-probe-v1');
    const metrics = map.registers.flatMap((r) => (r.metric ? [r.metric] : []));
    expect(metrics.sort()).toEqual(
      ['battery', 'conductivity', 'do', 'ph', 'turbidity', 'water_level', 'water_temperature'].sort(),
    );
    for (const m of metrics) expect(METRIC_IDS).toContain(m);
    const byName = Object.fromEntries(map.registers.map((r) => [r.name, r]));
    expect(byName.water_level).toMatchObject({ type: 'int16', scale: 0.001, unit: 'm' });
    expect(byName.do).toMatchObject({ type: 'float32', unit: 'mg/L' });
    expect(map.status).toEqual({
      register: 'status',
      bits: { probe_fault: 0, low_battery: 1, cleaning: 2, service_due: 3, level_sensor_fault: 4 },
    });
  });

  it('vendor maps are data only: float pairs at 0x2600 / 0x2800, word order CDAB', () => {
    const dO = loadRegisterMap('rs485-do-probe-v1');
    const ph = loadRegisterMap('rs485-ph-probe-v1');
    expect(dO.wordOrder).toBe('CDAB');
    expect(dO.registers.find((r) => r.metric === 'do')?.address).toBe(0x2602);
    expect(ph.registers.find((r) => r.metric === 'ph')?.address).toBe(0x2802);
  });
});

describe('validation', () => {
  it('accepts a minimal valid map and drops $schema / note', () => {
    const r = parseRegisterMap({ ...valid, $schema: 'x', note: 'n' });
    expect(r.ok && Object.keys(r.value)).toEqual(['id', 'vendor', 'description', 'wordOrder', 'registers', 'status']);
  });

  it('lists every schema problem at once (more than typebox’s default 8), then restores its setting', () => {
    const before = Settings.Get().maxErrors;
    const bad = { name: 'Bad Name', address: -1, fn: 5, type: 'double', foo: 1 };
    const issues = issuesOf({ id: 'Bad Id', vendor: '', wordOrder: 'XYZW', registers: [bad, bad], extra: 1 });
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/description',
        '/extra',
        '/id',
        '/vendor',
        '/wordOrder',
        '/registers/0/name',
        '/registers/0/address',
        '/registers/0/fn',
        '/registers/0/type',
        '/registers/0/foo',
        '/registers/0/description',
        '/registers/1/type',
      ]),
    );
    expect(issues.length).toBeGreaterThan(12);
    expect(issues.find((i) => i.path === '/registers/0/address')).toMatchObject({ value: -1 });
    expect(Settings.Get().maxErrors).toBe(before);
  });

  it('lists every rule problem: names, overlaps, scale, word order, units, status register, bits, id', () => {
    const issues = issuesOf(
      {
        ...valid,
        registers: [
          ...valid.registers,
          { name: 'level', address: 5, fn: 3, type: 'uint16', description: 'duplicate name' },
          { name: 'f', address: 1, fn: 3, type: 'float32', description: 'overlaps status' },
          { name: 'same_addr_other_fn', address: 1, fn: 4, type: 'float32', description: 'fine: input table' },
          { name: 'zero', address: 10, fn: 3, type: 'uint16', scale: 0, description: 'scale 0' },
          { name: 'wo', address: 11, fn: 3, type: 'int16', wordOrder: 'CDAB', description: 'word order on int16' },
          { name: 'ph', metric: 'ph', address: 12, fn: 3, type: 'float32', unit: 'mV', description: 'wrong unit' },
          { name: 'top', address: 65535, fn: 4, type: 'uint32', description: 'past the end' },
        ],
        status: { register: 'ph', bits: { a: 0, b: 0 } },
      },
      'other-id',
    );
    const messages = issues.map((i) => `${i.path} ${i.message}`);
    expect(messages).toEqual([
      '/id id "test-probe" differs from the file name "other-id.json"',
      '/registers/2/name duplicate register name "level"',
      '/registers/3/address overlaps register "status" at fn 3 address 1',
      '/registers/5/scale scale must be a finite number other than 0',
      '/registers/6/wordOrder wordOrder applies to 32-bit types only, not int16',
      '/registers/7/unit unit "mV" is not the unit of metric ph (pH)',
      '/registers/8/address uint32 at 65535 runs past address 65535',
      '/status/register status register "ph" must be an unscaled uint16 without a metric',
      '/status/bits/b bit 0 is also "a"',
    ]);
  });

  it('names a missing status register', () => {
    expect(issuesOf({ ...valid, status: { register: 'nope', bits: {} } })).toEqual([
      { path: '/status/register', message: 'no register named "nope"', value: 'nope' },
    ]);
  });
});

describe('loadRegisterMap', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cnx-maps-'));
    await writeFile(join(dir, 'test-probe.json'), JSON.stringify(valid));
    await writeFile(
      join(dir, 'broken.json'),
      JSON.stringify({ ...valid, id: 'broken', wordOrder: 'ZYXW', registers: [] }),
    );
    await writeFile(join(dir, 'notjson.json'), '{ "id": ');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a map from another folder', () => {
    expect(loadRegisterMap('test-probe', dir).registers).toHaveLength(2);
  });

  it('throws RegisterMapError with every problem in the message and as data', () => {
    let e: unknown;
    try {
      loadRegisterMap('broken', dir);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(RegisterMapError);
    const err = e as RegisterMapError;
    expect(err.issues.map((i) => i.path)).toEqual(['/wordOrder', '/registers']);
    expect(err.message).toMatch(/register map "broken" .* is invalid:\n {2}\/wordOrder: must be one of/);
    expect(err.message).toMatch(/\/registers: must not have fewer than 1 items/);
  });

  it('reports bad JSON, unknown ids (naming the known ones) and ids that are not ids', () => {
    expect(() => loadRegisterMap('notjson', dir)).toThrow(/not valid JSON/);
    expect(() => loadRegisterMap('nope', dir)).toThrow(/no such register map \(known: broken, notjson, test-probe\)/);
    expect(() => loadRegisterMap('../secrets', dir)).toThrow(/not a map id/);
    expect(() => registerMaps(dir)).toThrow(RegisterMapError);
  });
});
