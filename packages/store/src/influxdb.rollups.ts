import type { Series } from './influxdb.queries';
import type { InfluxQL } from './influxql';
import { ident, int, iql, join, measurementRef, str, tagIn, timeMs, timeRange } from './influxql';
import { escapeMeasurement, escapeTag, formatFloat, formatInteger } from './line-protocol';
import {
  byRollupKey,
  EMPTY_ROLLUP_STATE,
  type LateHour,
  type RollupQuery,
  type RollupRange,
  type RollupRow,
  type RollupState,
} from './rollups';
import { TAG_CITY, TAG_STATION } from './schema';

/**
 * Rollups on InfluxDB as measurements the service writes (README "Rollups and retention"): no
 * continuous queries (1.x only) or tasks (2.x only), so the same requests work on 1.x, 2.x and 3.
 * - `rollup`: tags city, level, metric, station; fields mean, min, max (float), count, flagged,
 *   expected (integer); time = bucket start. A removed bucket is overwritten with count=0 (InfluxQL
 *   has no DELETE on 2.x/3) and reads keep count > 0.
 * - `rollup_state`: tag city; integer fields hour, day, late_cursor, raw_from; time = when saved;
 *   the newest point is the state.
 * - `rollup_late`: tags city, station; integer field w (wall-clock ms of the write); time = the UTC
 *   hour start. Written in the same /write body as the late readings.
 */
export const ROLLUP_MEASUREMENT = 'rollup';
export const ROLLUP_STATE_MEASUREMENT = 'rollup_state';
export const LATE_MEASUREMENT = 'rollup_late';

const ROLLUP_FIELDS = ['mean', 'min', 'max', 'count', 'flagged', 'expected'] as const;

export interface InfluxRollupIo {
  /** Sends lines in as few /write requests as the size limit allows. */
  /** Rollup and state points, written to the rollups' retention policy. */
  post(lines: readonly string[]): Promise<void>;
  /** `rollups`: the statement reads rollup measurements (2.x: their DBRP mapping). */
  select(what: string, stmt: InfluxQL, rollups: boolean): Promise<Series[]>;
  exec(what: string, stmt: InfluxQL): Promise<void>;
}

const tags = (pairs: Array<[string, string]>): string =>
  pairs.map(([k, v]) => `,${escapeTag(k)}=${escapeTag(v)}`).join('');

export class InfluxRollups {
  private rp: string | undefined;
  private rollupRp: string | undefined;

  constructor(private readonly io: InfluxRollupIo) {}

  /** 1.x names retention policies in FROM (2.x passes them as a parameter; 3 has none). */
  setRetentionPolicies(readings: string | undefined, rollups: string | undefined): void {
    this.rp = readings;
    this.rollupRp = rollups;
  }

  /** Rollups and state live in the rollups' retention policy; late marks beside the readings. */
  private ref(m: string): InfluxQL {
    return measurementRef(m, m === LATE_MEASUREMENT ? this.rp : this.rollupRp);
  }

  /** The line marking one late hour of a batch (rollups.ts lateHoursOf), written at `now`. */
  lateLine(h: { city: string; stationId: string; start: number }, now: number): string {
    return `${escapeMeasurement(LATE_MEASUREMENT)}${tags([
      [TAG_CITY, h.city],
      [TAG_STATION, h.stationId],
    ])} w=${formatInteger(now)} ${h.start}`;
  }

  async replace(range: RollupRange, rows: readonly RollupRow[]): Promise<void> {
    const existing = await this.read({ ...range });
    const key = (r: RollupRow) => `${r.stationId}\u0000${r.metric}\u0000${r.start}`;
    const kept = new Set(rows.map(key));
    const line = (r: RollupRow, fields: string) =>
      `${escapeMeasurement(ROLLUP_MEASUREMENT)}${tags([
        [TAG_CITY, r.city],
        ['level', r.level],
        ['metric', r.metric],
        [TAG_STATION, r.stationId],
      ])} ${fields} ${r.start}`;
    const lines = rows.map((r) =>
      line(
        r,
        `mean=${formatFloat(r.mean)},min=${formatFloat(r.min)},max=${formatFloat(r.max)},count=${formatInteger(r.count)},flagged=${formatInteger(r.flagged)},expected=${formatInteger(r.expected)}`,
      ),
    );
    for (const r of existing) if (!kept.has(key(r))) lines.push(line(r, 'count=0i'));
    await this.io.post(lines);
  }

  async read(q: RollupQuery): Promise<RollupRow[]> {
    const cond = [
      iql`${ident('level')} = ${str(q.level)}`,
      iql`${ident(TAG_CITY)} = ${str(q.city)}`,
      timeRange(q.from, q.to),
      iql`${ident('count')} > ${int(0)}`,
    ];
    if (q.stationIds) cond.push(tagIn(TAG_STATION, q.stationIds));
    if (q.metrics) cond.push(tagIn('metric', q.metrics));
    const select = join(
      ROLLUP_FIELDS.map((f) => ident(f)),
      ', ',
    );
    const stmt = iql`SELECT ${select} FROM ${this.ref(ROLLUP_MEASUREMENT)} WHERE ${join(cond, ' AND ')} GROUP BY ${ident(TAG_STATION)}, ${ident('metric')}`;
    const out: RollupRow[] = [];
    for (const s of await this.io.select('readRollups', stmt, true)) {
      const stationId = s.tags?.[TAG_STATION] ?? '';
      const metric = s.tags?.metric ?? '';
      if (!stationId || !metric) continue; // GROUP BY puts both in the series tags; anything else is not ours
      for (const v of s.values) {
        out.push({
          level: q.level,
          city: q.city,
          stationId,
          metric,
          start: Number(v[0]),
          mean: Number(v[1]),
          min: Number(v[2]),
          max: Number(v[3]),
          count: Number(v[4]),
          flagged: Number(v[5]),
          expected: Number(v[6]),
        });
      }
    }
    return out.sort(byRollupKey);
  }

  async state(city: string): Promise<RollupState> {
    const stmt = iql`SELECT ${ident('hour')}, ${ident('day')}, ${ident('late_cursor')}, ${ident('raw_from')} FROM ${this.ref(ROLLUP_STATE_MEASUREMENT)} WHERE ${ident(TAG_CITY)} = ${str(city)} ORDER BY time DESC LIMIT 1`;
    const row = (await this.io.select('rollupState', stmt, true))[0]?.values[0];
    if (!row) return { ...EMPTY_ROLLUP_STATE };
    return { hour: Number(row[1]), day: Number(row[2]), lateCursor: Number(row[3]), rawFrom: Number(row[4]) };
  }

  async saveState(city: string, s: RollupState, now: number): Promise<void> {
    const fields = `hour=${formatInteger(s.hour)},day=${formatInteger(s.day)},late_cursor=${formatInteger(s.lateCursor)},raw_from=${formatInteger(s.rawFrom)}`;
    await this.io.post([`${escapeMeasurement(ROLLUP_STATE_MEASUREMENT)}${tags([[TAG_CITY, city]])} ${fields} ${now}`]);
  }

  async lateHours(city: string, after: number, upTo: number): Promise<LateHour[]> {
    const stmt = iql`SELECT ${ident('w')}, ${ident(TAG_STATION)}::tag FROM ${this.ref(LATE_MEASUREMENT)} WHERE ${ident(TAG_CITY)} = ${str(city)} AND ${ident('w')} > ${int(after)} AND ${ident('w')} <= ${int(upTo)}`;
    const out: LateHour[] = [];
    for (const s of await this.io.select('lateHours', stmt, false)) {
      for (const v of s.values) out.push({ stationId: String(v[2]), start: Number(v[0]) });
    }
    return out.sort((a, b) => (a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : a.start - b.start));
  }

  /** 1.x only: InfluxQL DELETE (2.x's v1 API and 3 have none; their retention is the operator's). */
  async deleteRawBefore(readingMeasurement: string, before: number): Promise<void> {
    for (const m of [readingMeasurement, LATE_MEASUREMENT]) {
      await this.io.exec('deleteRawBefore', iql`DELETE FROM ${ident(m)} WHERE time < ${timeMs(before)}`);
    }
  }
}
