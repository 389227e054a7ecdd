/**
 * Quality-control flags. The codes are stable: they are stored with every reading, returned by the
 * API and documented in docs/qc.md. Never rename one; add new ones at the end.
 */
export const QC_FLAGS = {
  /** A value is outside the metric's plausible range (but not impossible). */
  range: 'range',
  /** A value jumped implausibly far from the device's recent values. */
  spike: 'spike',
  /** The device reported exactly the same value for too long (stuck sensor / flatline). */
  stuck: 'stuck',
  /** Relative humidity high enough that optical PM sensors over-read (hygroscopic growth). */
  humidity: 'humidity',
  /** The timestamp is ahead of the receive time by more than the allowed clock skew. */
  future: 'future',
  /** The timestamp is older than the allowed age (late delivery, buffered replay or a bad clock). */
  stale: 'stale',
  /** The sequence number was already seen from this device with a different timestamp. */
  seq_duplicate: 'seq_duplicate',
} as const;

export type QcFlag = (typeof QC_FLAGS)[keyof typeof QC_FLAGS];
export const QC_FLAG_LIST: readonly QcFlag[] = Object.values(QC_FLAGS);

/**
 * Flags about one metric's value (the metrics are named in the reading's `qcMetrics`); the others
 * are about the whole reading (its time, its sequence number, the humidity its PM was measured in).
 */
export const QC_METRIC_FLAGS: readonly QcFlag[] = Object.freeze(['range', 'spike', 'stuck']);
