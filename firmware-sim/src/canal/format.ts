import { assessCanalLevel } from '@cnx/domain';
import { formatLocal } from '../cli/format';
import type { CanalEndpoint, CanalFleet } from './fleet';

/** One line per station: where it listens and what a master needs to poll it. */
export function endpointLines(endpoints: readonly CanalEndpoint[]): string[] {
  return endpoints.map((e) => {
    const parts = [`  ${e.deviceId.padEnd(28)} unit ${String(e.unitId).padEnd(3)}`];
    if (e.tcp) parts.push(`tcp ${e.tcp.host}:${e.tcp.port}`);
    if (e.rtu) parts.push(`rtu ${e.rtu.path} ${e.rtu.baudRate} 8${e.rtu.parity[0]!.toUpperCase()}${e.rtu.stopBits}`);
    parts.push(
      `map ${e.model} ${e.wordOrder}`,
      `levels warn ${e.levels.warningLevelM.toFixed(2)} crit ${e.levels.criticalLevelM.toFixed(2)} bank ${e.levels.bankHeightM.toFixed(2)} m`,
    );
    return parts.join('  ');
  });
}

const MARK = { normal: '', warning: ' WARN', critical: ' CRIT', overbank: ' OVERBANK' } as const;

/** Status: simulated time, requests and outcomes, and each station's level with its state. */
export function canalStatusLine(fleet: CanalFleet, utcOffsetMin: number, timeScale: number): string {
  const stats = fleet.stats();
  const sum = (k: 'requests' | 'answered' | 'silent' | 'dropped' | 'badCrc') => stats.reduce((a, s) => a + s[k], 0);
  const exc = stats.reduce((a, s) => a + Object.values(s.exceptions).reduce((x, y) => x + y, 0), 0);
  const up = stats.filter((s) => s.online).length;
  const t = fleet.now();
  const levels = fleet.stations.map((s) => {
    const v = s.valuesAt(t);
    const level = v.water_level;
    if (level === undefined) return `${s.info.stationId} -`;
    const state = assessCanalLevel(level, s.info.levels)?.state ?? 'normal';
    return `${s.info.stationId.replace(/^[a-z]+-canal-/, '')} ${level.toFixed(2)}${MARK[state]}`;
  });
  const parts = [
    `sim ${formatLocal(t, utcOffsetMin)} x${timeScale}`,
    `canal ${up}/${stats.length} up`,
    `req ${sum('requests')} ok ${sum('answered')} exc ${exc} silent ${sum('silent')}`,
  ];
  if (sum('dropped')) parts.push(`dropped ${sum('dropped')}`);
  if (sum('badCrc')) parts.push(`bad-crc ${sum('badCrc')}`);
  parts.push(`level m: ${levels.join(', ')}`);
  return parts.join(' | ');
}

export function canalSummary(fleet: CanalFleet): string {
  const lines = ['canal stations:'];
  for (const s of fleet.stats()) {
    const exc = Object.entries(s.exceptions)
      .map(([c, n]) => `${n}x${c}`)
      .join(' ');
    const faults = s.faults.length ? `  [${s.faults.join('; ')}]` : '';
    lines.push(
      `  ${s.deviceId.padEnd(28)} requests ${String(s.requests).padStart(6)} (tcp ${s.tcp}, rtu ${s.rtu})  answered ${s.answered}` +
        `${exc ? `  exceptions ${exc}` : ''}  silent ${s.silent}  dropped ${s.dropped}  bad-crc ${s.badCrc}${faults}`,
    );
  }
  return lines.join('\n');
}
