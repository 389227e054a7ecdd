import type { Fleet } from '../fleet';
import { statusLine } from './format';

export interface StatusReporter {
  start(): void;
  stop(): void;
}

/**
 * Periodic status. On a TTY one line is redrawn in place (carriage return + erase line); when stdout is
 * a pipe or a file we print plain lines instead, so logs stay readable and free of escape codes.
 */
export function createStatusReporter(opts: {
  fleet: Fleet;
  out: NodeJS.WriteStream;
  intervalMs: number;
  utcOffsetMin: number;
}): StatusReporter {
  const tty = opts.out.isTTY === true;
  let timer: ReturnType<typeof setInterval> | undefined;
  let drawn = false;
  const draw = () => {
    const line = statusLine(opts.fleet.stats(), opts.utcOffsetMin);
    if (tty) {
      const width = opts.out.columns ? opts.out.columns - 1 : line.length;
      opts.out.write(`\r\x1b[2K${line.slice(0, width)}`);
      drawn = true;
    } else {
      opts.out.write(`${line}\n`);
    }
  };
  return {
    start() {
      timer = setInterval(draw, opts.intervalMs);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty && drawn) opts.out.write('\r\x1b[2K');
    },
  };
}
