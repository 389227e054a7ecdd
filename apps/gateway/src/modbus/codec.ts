import { decodeBlock, decodeStatus, planReads, type ReadBlock, type RegisterMap } from '@cnx/device-models';
import type { MetricId, MetricValues } from '@cnx/domain';

/** What the poller reads from one device each poll, planned once at start. */
export interface DevicePlan {
  blocks: ReadBlock[];
  /** register name -> metric, for the registers that carry a measurement. */
  metrics: { name: string; metric: MetricId }[];
  /** float32 registers without scale/offset: their values are shown at float32 precision. */
  float32: Set<string>;
  statusRegister?: string;
}

/**
 * Plan the reads for a device: by default only the registers that carry a metric plus the status
 * register (one 11-register block for cnx-canal-probe-v1), so each poll costs as few bus requests
 * as possible (~50-85 ms each at 9600 baud); `diagnostics` reads the whole map.
 */
export function planDevice(d: { map: RegisterMap; diagnostics: boolean; maxGap: number }): DevicePlan {
  const { map } = d;
  const statusRegister = map.status?.register;
  const registers = d.diagnostics
    ? map.registers
    : map.registers.filter((r) => r.metric !== undefined || r.name === statusRegister);
  const blocks = planReads({ registers, wordOrder: map.wordOrder }, d.maxGap);
  const metrics: DevicePlan['metrics'] = [];
  const float32 = new Set<string>();
  for (const r of registers) {
    if (r.metric) metrics.push({ name: r.name, metric: r.metric });
    if (r.type === 'float32' && (r.scale ?? 1) === 1 && !r.offset) float32.add(r.name);
  }
  return { blocks, metrics, float32, statusRegister };
}

/**
 * The shortest decimal that reads back as the same float32: a probe that stores 7.2 serves
 * 0x40E66666 = 7.19999980926513671875; the value it meant, and the one we store, is 7.2.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

export interface DecodedPoll {
  values: MetricValues;
  /** Every register read, by name (diagnostics included), NaN kept as NaN. */
  registers: Record<string, number>;
  /** The status register's raw value and the names of its set bits. */
  status?: { raw: number; active: string[] };
}

/** Turn the words of each planned block into metric values, register values and status bits. */
export function decodePoll(plan: DevicePlan, map: RegisterMap, words: number[][]): DecodedPoll {
  const registers: Record<string, number> = {};
  plan.blocks.forEach((block, i) => {
    Object.assign(registers, decodeBlock(block, words[i] ?? []));
  });
  for (const name of plan.float32) {
    const v = registers[name];
    if (v !== undefined) registers[name] = shortestFloat32(v);
  }
  const values: MetricValues = {};
  for (const { name, metric } of plan.metrics) {
    const v = registers[name];
    if (v !== undefined) values[metric] = v;
  }
  const out: DecodedPoll = { values, registers };
  if (plan.statusRegister !== undefined && registers[plan.statusRegister] !== undefined) {
    const raw = registers[plan.statusRegister] as number;
    const bits = decodeStatus(map, raw);
    out.status = { raw, active: Object.keys(bits).filter((k) => bits[k]) };
  }
  return out;
}
