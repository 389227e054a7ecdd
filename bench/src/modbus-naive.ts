/**
 * The naive Modbus baseline: what one would write in an afternoon with modbus-serial's promise API.
 * One client per device (TCP) or one client for the line (RTU), and a plain sequential loop:
 * `for (;;) for (device of devices) await client.readHoldingRegisters(...)`, decoding each answer.
 * No schedule, no per-device isolation (a slow device delays everyone behind it), no retry, no
 * backoff, no inter-frame gap on RTU, no pipeline.
 */
import { decodeBlock, type ReadBlock } from '@cnx/device-models';
import ModbusRTU from 'modbus-serial';

export interface NaiveResult {
  polls: number;
  errors: number;
  elapsedMs: number;
  /** process CPU time (user + system) during the loop, µs. */
  cpuUs: number;
}

async function loop(
  warmupMs: number,
  durationMs: number,
  targets: { client: ModbusRTU; unitId: number }[],
  block: ReadBlock,
): Promise<NaiveResult> {
  let polls = 0;
  let errors = 0;
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const measureFrom = t0 + warmupMs;
  let warm = warmupMs <= 0;
  const end = measureFrom + durationMs;
  while (performance.now() < end) {
    if (!warm && performance.now() >= measureFrom) {
      // Not counted: connections, JIT, lazily loaded modules.
      warm = true;
      polls = 0;
      errors = 0;
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    }
    for (const { client, unitId } of targets) {
      try {
        client.setID(unitId);
        const r =
          block.fn === 3
            ? await client.readHoldingRegisters(block.address, block.length)
            : await client.readInputRegisters(block.address, block.length);
        decodeBlock(block, r.data);
        polls++;
      } catch {
        errors++;
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { polls, errors, elapsedMs: performance.now() - t0, cpuUs: cpu.user + cpu.system };
}

export async function naiveTcp(
  endpoints: { host: string; port: number; unitId: number }[],
  block: ReadBlock,
  durationMs: number,
  warmupMs = 1000,
): Promise<NaiveResult> {
  const targets = await Promise.all(
    endpoints.map(async (e) => {
      const client = new ModbusRTU();
      await client.connectTCP(e.host, { port: e.port });
      client.setTimeout(1000);
      return { client, unitId: e.unitId };
    }),
  );
  try {
    return await loop(warmupMs, durationMs, targets, block);
  } finally {
    await Promise.all(targets.map((t) => new Promise<void>((r) => t.client.close(() => r()))));
  }
}

export async function naiveRtu(
  path: string,
  baudRate: number,
  unitIds: number[],
  block: ReadBlock,
  durationMs: number,
  warmupMs = 1000,
): Promise<NaiveResult> {
  const client = new ModbusRTU();
  await client.connectRTUBuffered(path, { baudRate });
  client.setTimeout(500);
  try {
    return await loop(
      warmupMs,
      durationMs,
      unitIds.map((unitId) => ({ client, unitId })),
      block,
    );
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
}
