import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type InfluxDBHandle, makeTempDir, removeDir, startInfluxDB } from '../src/index';

const countRows = async (influx: InfluxDBHandle): Promise<number> => {
  const res = await influx.query('SELECT count("v") FROM "m"');
  return (res.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
};

describe('startInfluxDB', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('starts, creates the database, writes and queries, and stops', async () => {
    const influx = await startInfluxDB({ database: 'kit' });
    try {
      expect(influx.url).toBe(`http://127.0.0.1:${influx.port}`);
      const dbs = await influx.query('SHOW DATABASES');
      expect(dbs.results[0]?.series?.[0]?.values.flat()).toContain('kit');
      await influx.write('m,s=a v=1 1000\nm,s=a v=2 2000');
      const res = await influx.query('SELECT "v" FROM "m"');
      expect(res.results[0]?.series?.[0]?.values).toEqual([
        [1000, 1],
        [2000, 2],
      ]);
      await expect(influx.query('SELEC nonsense')).rejects.toThrow(/influxd query failed/);
    } finally {
      await influx.stop();
    }
    expect(influx.running).toBe(false);
    expect(existsSync(influx.dataDir)).toBe(false);
  });

  it('restarts on the same port keeping data, after a graceful stop and after SIGKILL', async () => {
    const influx = await startInfluxDB();
    try {
      const port = influx.port;
      await influx.write('m v=1 1000');
      await influx.stopProcess();
      await expect(fetch(`${influx.url}/ping`)).rejects.toThrow();
      await influx.restart();
      expect(influx.port).toBe(port);
      expect(await countRows(influx)).toBe(1);

      await influx.write('m v=2 2000');
      await influx.kill(); // a crash: the acknowledged write must be in the fsynced WAL
      expect(influx.running).toBe(false);
      await influx.restart();
      expect(await countRows(influx)).toBe(2);
    } finally {
      await influx.stop();
    }
  });

  it('a new server on the same port and an external dataDir sees the old data; two servers coexist', async () => {
    const dataDir = await makeTempDir('cnx-influx-ext-');
    dirs.push(dataDir);
    const first = await startInfluxDB({ dataDir });
    await first.write('m v=1 1000');
    const port = first.port;
    await first.stop();
    expect(existsSync(dataDir)).toBe(true); // the caller's dir is never deleted

    const [again, other] = await Promise.all([startInfluxDB({ dataDir, port }), startInfluxDB()]);
    try {
      expect(again.port).toBe(port);
      expect(await countRows(again)).toBe(1);
      expect(await countRows(other)).toBe(0);
    } finally {
      await Promise.all([again.stop(), other.stop()]);
    }
  });
});
