import { METRIC_IDS, METRICS, type MetricId } from '../metrics';
import type { MetricValues } from '../types';

const INDEX: Readonly<Record<string, number>> = Object.fromEntries(METRIC_IDS.map((id, i) => [id, i]));
const HARD_MIN = Float64Array.from(METRIC_IDS, (id) => METRICS[id].hardMin);
const HARD_MAX = Float64Array.from(METRIC_IDS, (id) => METRICS[id].hardMax);

/**
 * The first impossible value (outside METRICS[m].hardMin..hardMax, or not finite), in METRIC_IDS
 * order; the gateway rejects such readings. Undefined when every value is possible. Keys that are
 * not metric ids are ignored (schema validation deals with them).
 */
export function checkHardLimits(values: MetricValues): { metric: MetricId; value: number } | undefined {
  let first = -1;
  let bad = 0;
  for (const key in values) {
    const i = INDEX[key];
    if (i === undefined) continue;
    const v = values[key as MetricId];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < HARD_MIN[i]! || v > HARD_MAX[i]!) {
      if (first < 0 || i < first) {
        first = i;
        bad = v;
      }
    }
  }
  return first < 0 ? undefined : { metric: METRIC_IDS[first]!, value: bad };
}
