/** Open live streams, bounded in total and per client; closeAll() ends them at shutdown. */
export class StreamRegistry {
  private readonly open = new Map<number, { client: string; close: () => void }>();
  private readonly perClient = new Map<string, number>();
  private next = 0;

  constructor(
    readonly maxStreams: number,
    readonly maxPerClient: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** 'full' / 'client' when a bound is reached, else a release function (idempotent). */
  acquire(client: string, close: () => void): 'full' | 'client' | (() => void) {
    if (this.open.size >= this.maxStreams) return 'full';
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.maxPerClient) return 'client';
    const id = this.next++;
    this.open.set(id, { client, close });
    this.perClient.set(client, mine + 1);
    return () => {
      if (!this.open.delete(id)) return;
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(client);
      else this.perClient.set(client, n);
    };
  }

  closeAll(): void {
    for (const s of [...this.open.values()]) s.close();
  }
}
