/**
 * Durations on the command line and in fault/scenario parameters: `500ms`, `10s`, `5m`, `2h`, `1d`,
 * combinations like `1h30m`, an optional sign (`-15m` for a clock running behind), or a bare number of
 * milliseconds. `inf` / `forever` mean no end.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) && input !== Number.POSITIVE_INFINITY) throw new Error(`invalid duration: ${input}`);
    return input;
  }
  const s = input.trim().toLowerCase();
  if (s === 'inf' || s === 'forever' || s === 'infinity') return Number.POSITIVE_INFINITY;
  if (/^[+-]?\d+(\.\d+)?$/.test(s)) return Number(s);
  let sign = 1;
  let rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < rest.length) {
    PART.lastIndex = pos;
    const m = PART.exec(rest);
    if (!m) throw new Error(`invalid duration: "${input}" (use e.g. 500ms, 10s, 5m, 2h, 1d, 1h30m)`);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  if (rest.length === 0) throw new Error(`invalid duration: "${input}"`);
  return sign * total;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const out: string[] = [];
  for (const [u, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      out.push(`${Math.floor(rest / size)}${u}`);
      rest %= size;
    }
  }
  if (rest > 0 || out.length === 0) out.push(`${Math.round(rest)}ms`);
  return sign + out.join('');
}
