/**
 * Simulated time. The simulation runs `timeScale` times faster than the wall clock, starting at
 * `simStart`: sim = simStart + (real - realStart) * timeScale. Device clocks follow simulated time
 * (a device's reading at simulated 07:00 says 07:00), so `--time-scale 1440` replays a day per minute.
 */
export interface SimClock {
  readonly simStart: number;
  readonly timeScale: number;
  /** Starts the clock; before this, now() is simStart. */
  start(): void;
  /** Current simulated time, epoch ms. */
  now(): number;
  /** Real milliseconds since start(). */
  realElapsed(): number;
}

export function createSimClock(opts: { simStart: number; timeScale: number; realNow?: () => number }): SimClock {
  if (!(opts.timeScale > 0)) throw new Error(`timeScale must be > 0, got ${opts.timeScale}`);
  const realNow = opts.realNow ?? Date.now;
  let realStart: number | undefined;
  return {
    simStart: opts.simStart,
    timeScale: opts.timeScale,
    start() {
      realStart ??= realNow();
    },
    now() {
      return realStart === undefined ? opts.simStart : opts.simStart + (realNow() - realStart) * opts.timeScale;
    },
    realElapsed() {
      return realStart === undefined ? 0 : realNow() - realStart;
    },
  };
}

/**
 * UTC offset (minutes) of an IANA zone at an instant. The city pack names its zone, so we ask Intl
 * instead of hard-coding an offset.
 */
export function utcOffsetMinutes(timeZone: string, at: number): number {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const p = Object.fromEntries(fmt.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}
