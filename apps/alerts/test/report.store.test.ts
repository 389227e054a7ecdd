/**
 * The report tables in SQLite (src/reports/report.store.ts): a rejected or merged report keeps its text
 * and exact point only for the retention period, its photo not at all; the audit rows stay. Real
 * better-sqlite3 (an in-memory database with the service's schema).
 */
import { describe, expect, it } from 'vitest';
import { ReportStore } from '../src/reports/report.store';
import { AlertStore } from '../src/store';

const DAY = 86_400_000;

describe('report store', () => {
  it('purges rejected and merged reports after the retention period, never pending or approved ones', () => {
    const alerts = new AlertStore(':memory:');
    const store = new ReportStore(alerts.db);
    const t0 = Date.UTC(2026, 0, 1);
    const base = { category: 'smoke' as const, lat: 18.788312, lon: 98.985341, reported_at: t0, has_photo: 1 as const };
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const [pending, approved, rejected, merged] = ['a', 'b', 'c', 'd'].map((text) =>
      store.insert({ ...base, status: 'pending', text }, jpeg),
    ) as [number, number, number, number];
    store.update(approved, { status: 'approved', moderated_by: 'malee', moderated_at: t0 });
    store.update(rejected, { status: 'rejected', moderated_by: 'malee', moderated_at: t0, reason: 'spam' });
    store.deletePhoto(rejected);
    store.update(merged, { status: 'merged', moderated_by: 'malee', moderated_at: t0, merged_into: approved });

    expect(store.purgeModerated(t0, t0 + DAY), 'nothing is older than the cut yet').toBe(0);
    expect(store.purgeModerated(t0 + 30 * DAY, t0 + 30 * DAY)).toBe(2);
    for (const id of [rejected, merged]) {
      expect(store.get(id)).toMatchObject({ text: '', lat: 18.79, lon: 98.99, has_photo: 0 });
      expect(store.photo(id)).toBeUndefined();
      expect(store.auditOf(id).at(-1)).toMatchObject({ actor: 'system', action: 'purged' });
    }
    expect(store.get(pending)).toMatchObject({ text: 'a', lat: base.lat, has_photo: 1 });
    expect(store.get(approved)).toMatchObject({ text: 'b', lat: base.lat });
    expect(store.photo(approved)).toEqual(jpeg);
    expect(store.duplicateCounts().get(approved)).toBe(1);
    expect(store.purgeModerated(t0 + 60 * DAY, t0 + 60 * DAY), 'purged once').toBe(0);
    alerts.close();
  });
  it('lists the newest approved reports when there are more than the limit, oldest first among them', () => {
    const alerts = new AlertStore(':memory:');
    const store = new ReportStore(alerts.db);
    const t0 = Date.UTC(2026, 0, 1);
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      const id = store.insert({
        category: 'smoke',
        lat: 18.79,
        lon: 98.98,
        reported_at: t0 + i * 60_000,
        has_photo: 0,
        status: 'pending',
        text: `r${i}`,
      });
      store.update(id, { status: 'approved', moderated_by: 'malee', moderated_at: t0 + i * 60_000 });
      ids.push(id);
    }
    // The open data must keep showing what was approved last: a cap that kept the oldest would hide
    // every new report once the city had that many.
    expect(store.approved(5).map((r) => r.id)).toEqual(ids.slice(2));
    expect(store.approved(10).map((r) => r.id)).toEqual(ids);
    expect(
      store.approved(3, 3).map((r) => r.id),
      'the three before the three newest',
    ).toEqual(ids.slice(1, 4));
    expect(store.approvedCount()).toBe(7);
    alerts.close();
  });
});
