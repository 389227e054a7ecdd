/**
 * A strictly sequential FIFO of async jobs: the next job starts only after the previous one settled.
 * One per RS-485 bus (Modbus over serial line allows one outstanding request: the master must wait for
 * the answer or the timeout before addressing anyone else) and one per TCP connection.
 *
 * The queue is bounded by construction: each device has at most one request queued or in flight.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Jobs queued or running. */
  get depth(): number {
    return this.pending;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(job).finally(() => {
      this.pending--;
    });
    // The chain must continue whether the job failed or not.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
