import type { FleetStats } from '../fleet';

/** Simulated instant in the city's local time, e.g. `2026-03-15 07:30:00 +07:00`. */
export function formatLocal(t: number, utcOffsetMin: number): string {
  const local = new Date(Math.round(t) + utcOffsetMin * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const sign = utcOffsetMin < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMin);
  return `${local} ${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function statusLine(s: FleetStats, utcOffsetMin: number): string {
  const parts = [
    `sim ${formatLocal(s.simNow, utcOffsetMin)} x${s.timeScale}`,
    `devices ${s.up}/${s.devices} up`,
    `sent ${s.published}`,
    `acked ${s.acked}`,
  ];
  if (s.failed) parts.push(`lost ${s.failed}`);
  if (s.replayed) parts.push(`replayed ${s.replayed}`);
  if (s.buffered) parts.push(`buffered ${s.buffered}`);
  if (s.malformed) parts.push(`malformed ${s.malformed}`);
  parts.push(`faults ${s.faultsActive} active`);
  return parts.join(' | ');
}

/** The --json-summary document: per-device counts and seq/ts ranges, for tests and field reports. */
export function summaryDocument(s: FleetStats) {
  return {
    finished: s.finished ?? null,
    city: s.city,
    scenario: s.scenario,
    seed: s.seed,
    timeScale: s.timeScale,
    intervalMs: s.intervalMs,
    simStart: new Date(s.simStart).toISOString(),
    simEnd: new Date(Math.round(s.simNow)).toISOString(),
    realElapsedMs: Math.round(s.realElapsedMs),
    totals: {
      devices: s.devices,
      published: s.published,
      acked: s.acked,
      failed: s.failed,
      malformed: s.malformed,
      replayed: s.replayed,
      buffered: s.buffered,
      dropped: s.dropped,
      suppressed: s.suppressed,
    },
    devices: Object.fromEntries(
      s.perDevice.map((d) => [
        d.deviceId,
        {
          clientId: d.clientId,
          intervalMs: d.intervalMs,
          format: d.format,
          published: d.published,
          acked: d.acked,
          failed: d.failed,
          malformed: d.malformed,
          replayed: d.replayed,
          buffered: d.buffered,
          dropped: d.dropped,
          suppressed: d.suppressed,
          connects: d.connects,
          seq: d.seqFirst === undefined ? null : { first: d.seqFirst, last: d.seqLast },
          ts: d.tsMin === undefined ? null : { min: d.tsMin, max: d.tsMax },
          faults: d.faults,
        },
      ]),
    ),
  };
}

export function summaryText(s: FleetStats, utcOffsetMin: number): string {
  const lines = [
    `finished: ${s.finished ?? 'running'} after ${(s.realElapsedMs / 1000).toFixed(1)} s real, simulated ${formatLocal(s.simStart, utcOffsetMin)} .. ${formatLocal(s.simNow, utcOffsetMin)}`,
    `devices ${s.devices}, published ${s.published}, acked ${s.acked}, lost ${s.failed}, malformed ${s.malformed}, replayed ${s.replayed}, still buffered ${s.buffered}, dropped ${s.dropped}, dropout-suppressed ${s.suppressed}`,
  ];
  for (const d of s.perDevice) {
    const seq = d.seqFirst === undefined ? 'no messages' : `seq ${d.seqFirst}..${d.seqLast}`;
    const faults = d.faults.length ? `  [${d.faults.join('; ')}]` : '';
    lines.push(
      `  ${d.deviceId.padEnd(28)} ${d.format.padEnd(5)} sent ${String(d.published).padStart(6)}  ${seq}${faults}`,
    );
  }
  return lines.join('\n');
}
