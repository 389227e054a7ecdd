import { formatLocal } from '../cli/format';
import type { BackfillProgress, BackfillResult } from './publish';

export const fmt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, noun: string) => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;

/** The one-line summary printed at the end. */
export function backfillSummaryLine(r: BackfillResult, utcOffsetMin: number, url: string): string {
  if (r.readings === 0)
    return `backfill: nothing to publish in ${formatLocal(r.from, utcOffsetMin)} .. ${formatLocal(r.until, utcOffsetMin)}`;
  const rate = r.seconds > 0 ? Math.round(r.readings / r.seconds) : r.readings;
  return (
    `backfill: ${fmt(r.readings)} readings of ${plural(r.devices.filter((d) => d.readings > 0).length, 'device')} in ` +
    `${fmt(r.messages)} ${r.format === 'senml' ? 'SenML packs' : 'messages'}, ${r.seconds.toFixed(1)} s ` +
    `(${fmt(rate)} readings/s), ${formatLocal(r.from, utcOffsetMin)} .. ${formatLocal(r.until, utcOffsetMin)}, ` +
    `all acknowledged by ${url}`
  );
}

/** A progress line for logs (no terminal): percentage and counts. */
export function backfillProgressLine(p: BackfillProgress): string {
  return `backfill: ${Math.floor((100 * p.readings) / p.totalReadings)}% (${fmt(p.readings)}/${fmt(p.totalReadings)} readings)`;
}
