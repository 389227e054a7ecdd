import type { CityPack } from '@cnx/city-pack';
import { DEFAULT_QC_CONFIG, type DeviceQcState, type Reading } from '@cnx/domain';
import { topics } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { DeadLetters } from '../src/ingest/dead-letters';
import { Republisher } from '../src/ingest/republisher';
import { type DurableLog, SpoolSink } from '../src/ingest/sink';
import { IngestStep } from '../src/ingest/step';
import { GatewayStats } from '../src/metrics';

const silent = createLogger('stages-test', 'silent');

/** Commit spool records whose readings are known (the writer's tests): one sink commit each. */
export function commitRecords(
  log: DurableLog,
  items: readonly { record: string; reading: Reading }[],
  onCommitted?: SpoolSink['onCommitted'] extends (l: infer L) => void ? L : never,
): void {
  const sink = new SpoolSink(log, new GatewayStats(), silent);
  if (onCommitted) sink.onCommitted(onCommitted);
  for (const it of items) {
    if (!sink.commit({ records: [it.record], readings: [it.reading], history: false }))
      throw new Error('spool refused a record');
  }
}

/**
 * The ingest stages as gateway.ts wires them (step -> sink -> republisher, dead letters), on a real
 * spool, with the bus captured. `message()` is the MQTT transport's commit path for one message.
 */
export function ingestStages(opts: {
  pack: CityPack;
  log: DurableLog;
  stats?: GatewayStats;
  maxPayloadBytes?: number;
  busBatchMs?: number;
  qcStates?: Map<string, DeviceQcState>;
}) {
  const stats = opts.stats ?? new GatewayStats();
  const published: { topic: string; payload: string }[] = [];
  const bus = { publish: (topic: string, payload: string) => void published.push({ topic, payload }) };
  const step = new IngestStep({
    pack: opts.pack,
    qcConfig: DEFAULT_QC_CONFIG,
    stats,
    maxPayloadBytes: opts.maxPayloadBytes ?? 16 * 1024,
    qcStates: opts.qcStates,
  });
  const sink = new SpoolSink(opts.log, stats, silent);
  const deadLetters = new DeadLetters(opts.pack.city.id, bus, stats, silent);
  const republisher = new Republisher(topics.readings(opts.pack.city.id), bus, opts.busBatchMs ?? 0);
  sink.onCommitted(republisher.onCommitted);
  const message = (
    deviceId: string,
    payload: Buffer | string,
    receivedAt: number,
    topic = 'test',
    history = false,
  ): 'accepted' | 'rejected' | 'full' => {
    if (sink.full) return 'full';
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const result = step.message(deviceId, bytes, receivedAt, history);
    if (!result.ok) {
      deadLetters.publish(result.error, { deviceId, payload: bytes, receivedAt, topic });
      return 'rejected';
    }
    return sink.commit(result.value, receivedAt) ? 'accepted' : 'full';
  };
  return { stats, step, sink, deadLetters, republisher, published, message };
}
