import type { ReadingKey, StoredReading } from './reading-store';

/** Code-unit order of ids, the order JavaScript's `<` gives (see ReadingKey). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two readings (or keys) in the store's total order: ts, city, station, device. */
export function compareKeys(a: ReadingKey, b: ReadingKey): number {
  return a.ts - b.ts || cmp(a.city, b.city) || cmp(a.stationId, b.stationId) || cmp(a.deviceId, b.deviceId);
}

/** The key of a reading: the cursor that continues a scan after it. */
export const keyOf = (r: StoredReading): ReadingKey => ({
  ts: r.ts,
  city: r.city,
  stationId: r.stationId,
  deviceId: r.deviceId,
});

/**
 * Re-cuts a stream of sorted row batches into pages of exactly `size` rows (the last one shorter),
 * the page shape the scan() contract promises whatever the backend's own batch sizes were.
 */
export class PageBuffer {
  private rows: StoredReading[] = [];

  constructor(private readonly size: number) {}

  push(rows: readonly StoredReading[]): void {
    for (const r of rows) this.rows.push(r);
  }

  /** Full pages ready now. */
  *full(): Generator<StoredReading[]> {
    while (this.rows.length >= this.size) yield this.rows.splice(0, this.size);
  }

  /** Whatever is left at the end (one short page or nothing). */
  *rest(): Generator<StoredReading[]> {
    yield* this.full();
    if (this.rows.length > 0) yield this.rows.splice(0);
  }
}
