/**
 * Real-time waits that can all be cut short at once. A device's reconnect storm sleeps between drops;
 * stop() must not leave those timers holding the process open, so every pending wait is tracked.
 */
export class Waits {
  private readonly pending = new Set<() => void>();
  private signalled: Array<() => void> = [];
  private closed = false;

  /** Resolves after `ms`, or at once when cancelAll() runs. */
  sleep(ms: number): Promise<void> {
    return this.wait(ms, false);
  }

  /** Resolves at the next signal(), after `timeoutMs` at the latest. */
  untilSignal(timeoutMs: number): Promise<void> {
    return this.wait(timeoutMs, true);
  }

  signal(): void {
    const waiters = this.signalled;
    this.signalled = [];
    for (const w of waiters) w();
  }

  cancelAll(): void {
    this.closed = true;
    for (const finish of [...this.pending]) finish();
    this.signalled = [];
  }

  private wait(ms: number, onSignal: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.pending.add(finish);
      if (onSignal) this.signalled.push(finish);
    });
  }
}
