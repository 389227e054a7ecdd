export interface ScheduleOptions {
  intervalMs: number;
  /** Offset of this device's slots from the poller's start, to spread devices over the interval. */
  phaseMs: number;
  /** Backoff after the first failed poll; doubles per further consecutive failure. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export type SlotDecision = 'poll' | 'skipped_backoff' | 'skipped_busy';

/**
 * One device's polling schedule. Pure (no timers, no clock): the poller's timers ask it where the next
 * slot is and whether to poll in it, which is what the unit tests drive with fake timers.
 *
 * - Fixed-rate slots at start + phase + k × interval: a slow poll or a queue on a shared bus never
 *   shifts the device's later slots, and a slot whose poll is still running is skipped (`skipped_busy`)
 *   instead of queueing a second poll of the same device (this bounds every bus queue to one request
 *   per device).
 * - After f consecutive failed polls the device is left alone until
 *   (slot of the failed poll) + min(backoffBase × 2^(f−1), backoffMax); its slots inside that window
 *   are skipped (`skipped_backoff`). With backoffBase = interval the first failure changes nothing, the
 *   second skips one slot, then 3, 7, … up to the cap. On a shared RTU bus this is what keeps a dead
 *   device from costing a timeout in every cycle.
 */
export class PollSchedule {
  private failures = 0;
  private backoffUntil = Number.NEGATIVE_INFINITY;
  private readonly anchor: number;

  constructor(
    readonly opts: ScheduleOptions,
    startAt: number,
  ) {
    this.anchor = startAt + opts.phaseMs;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Epoch ms until which slots are skipped; undefined when not backing off. */
  get backoffUntilMs(): number | undefined {
    return Number.isFinite(this.backoffUntil) ? this.backoffUntil : undefined;
  }

  /** The first slot at or after `t`. */
  slotAtOrAfter(t: number): number {
    if (t <= this.anchor) return this.anchor;
    const k = Math.ceil((t - this.anchor) / this.opts.intervalMs);
    return this.anchor + k * this.opts.intervalMs;
  }

  /** The slot after `slot` (slots are fixed-rate; a late timer does not move them). */
  nextSlot(slot: number, now: number): number {
    const next = slot + this.opts.intervalMs;
    // A timer that fired very late (suspended process, blocked loop): resume at the next future slot.
    return next > now ? next : this.slotAtOrAfter(now + 1);
  }

  decide(slot: number, busy: boolean): SlotDecision {
    if (busy) return 'skipped_busy';
    if (slot < this.backoffUntil) return 'skipped_backoff';
    return 'poll';
  }

  backoffDelay(failures: number): number {
    if (failures <= 0) return 0;
    const { backoffBaseMs, backoffMaxMs } = this.opts;
    return Math.min(backoffBaseMs * 2 ** Math.min(failures - 1, 30), backoffMaxMs);
  }

  /** A poll that started in `slot` failed; returns the end of the backoff window. */
  recordFailure(slot: number): number {
    this.failures++;
    this.backoffUntil = slot + this.backoffDelay(this.failures);
    return this.backoffUntil;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.backoffUntil = Number.NEGATIVE_INFINITY;
  }
}

/**
 * Phases that spread `count` devices of one bus evenly over an interval (device i starts at
 * i × interval / count), so a bus does not get every device's request in the same millisecond.
 */
export function spreadPhase(index: number, count: number, intervalMs: number): number {
  return count <= 1 ? 0 : Math.floor((index * intervalMs) / count);
}
