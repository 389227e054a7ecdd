import type { InfluxDBHandle } from '@cnx/testkit';

export interface StoredRow {
  device: string;
  seq?: number;
  ts: number;
  qc: string;
  pm25?: number;
}

/**
 * Every stored reading of the measurement in [from, to), with the fields the tests look at; from
 * `database` when given (default: the handle's).
 */
export async function storedRows(
  influx: InfluxDBHandle,
  from: number,
  to: number,
  database?: string,
): Promise<StoredRow[]> {
  const measurement = database ? `"${database}".."reading"` : '"reading"';
  const res = await influx.query(
    `SELECT "device", "seq", "qc", "pm25" FROM ${measurement} WHERE time >= ${from}ms AND time < ${to}ms`,
  );
  const series = res.results[0]?.series?.[0];
  if (!series) return [];
  const i = (c: string) => series.columns.indexOf(c);
  return series.values.map((v) => ({
    ts: v[i('time')] as number,
    device: v[i('device')] as string,
    seq: (v[i('seq')] as number | null) ?? undefined,
    qc: (v[i('qc')] as string | null) ?? '',
    pm25: (v[i('pm25')] as number | null) ?? undefined,
  }));
}
