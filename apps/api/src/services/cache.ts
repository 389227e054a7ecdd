/**
 * A small TTL cache with single flight: the "now" views (latest, districts, canal, station status)
 * cost several store queries, change at most every few seconds, and are asked for by every page view.
 * Concurrent misses for one key share one computation; failures are not cached.
 */
export class ViewCache {
  private readonly entries = new Map<string, { expires: number; stamp?: string; value: Promise<unknown> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** At most this many entries: the oldest goes first (the "now" views have a few keys; series many). */
    private readonly maxEntries = Number.POSITIVE_INFINITY,
  ) {}

  /** With `stamp` (the in-memory view's version and second), an entry also expires when the stamp changes. */
  get<T>(key: string, compute: () => Promise<T>, stamp?: string): Promise<T> {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > t && hit.stamp === stamp) return hit.value as Promise<T>;
    const value = compute();
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { expires: t + this.ttlMs, stamp, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** Drops everything; returns how many entries there were. */
  flush(): number {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }
}
