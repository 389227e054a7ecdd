import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { REPO_CITIES_DIR, writeSyntheticCityPack } from '../src/index';

const repoRoot = path.dirname(REPO_CITIES_DIR);
let root: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'cnx-cli-'));
  await writeSyntheticCityPack(path.join(root, 'bad'), { id: 'bad', airStations: 2 });
  await writeFile(path.join(root, 'bad', 'devices.json'), '{"devices":[{"id":"d","stationId":"nope"}]}');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('city-pack validate', () => {
  it('prints a summary for the Chiang Mai pack and exits 0', async () => {
    const c = capture();
    expect(await runCli(['validate', 'cities/chiang-mai'], c.io, repoRoot)).toBe(0);
    expect(c.out[0]).toMatch(/^cities\/chiang-mai: OK chiang-mai .* \d+ stations \(\d+ air, \d+ canal\), \d+ devices/);
    expect(c.err).toEqual([]);
  });

  it('accepts a city id', async () => {
    const c = capture();
    expect(await runCli(['validate', 'chiang-mai', '--quiet'], c.io, root)).toBe(0);
    expect(c.out).toHaveLength(1);
  });

  it('prints every error and exits 1', async () => {
    const c = capture();
    expect(await runCli(['validate', 'bad'], c.io, root)).toBe(1);
    expect(c.err[0]).toBe('bad: 3 errors');
    expect(c.err.slice(1).sort()).toEqual([
      '  devices.json /devices/0/model [schema_invalid] missing required property "model"',
      '  devices.json /devices/0/stationId [unknown_station] device "d" names station "nope", which is not in stations.json (value: "nope")',
      '  devices.json /devices/0/transport [schema_invalid] missing required property "transport"',
    ]);
  });

  it('exits 2 on bad usage', async () => {
    const c = capture();
    expect(await runCli(['check'], c.io, root)).toBe(2);
    expect(c.err[0]).toMatch(/^usage:/);
  });
});
