import Type from 'typebox';
import { IdList, MetricId, QcFlag, StationKind, Timestamp } from './common';
import { Correction, MetricValues } from './station';

export const StreamQuery = Type.Object(
  {
    station: Type.Optional(IdList('station')),
    district: Type.Optional(IdList('district')),
    kind: Type.Optional(StationKind),
  },
  { additionalProperties: false },
);

/** The `data` of a `reading` event on GET /v1/stream: a normalised reading from the bus. */
export const LiveReading = Type.Object(
  {
    ts: Timestamp,
    station: Type.String(),
    device: Type.String(),
    district: Type.String(),
    kind: StationKind,
    seq: Type.Optional(Type.Integer()),
    values: MetricValues,
    corrections: Type.Array(Correction),
    qc: Type.Array(QcFlag),
    qcMetrics: Type.Optional(
      Type.Array(MetricId, { description: 'The metrics a metric flag in qc (range, spike, stuck) is about' }),
    ),
    usable: Type.Boolean({
      description:
        "false when a QC flag keeps the station's main value (PM2.5 of an air station, the level of a canal " +
        'station) out of every figure (spike, range, stuck on it, or a stale/future time: docs/qc.md); show it, ' +
        'if at all, as suspect',
    }),
    receivedAt: Timestamp,
  },
  { title: 'LiveReading' },
);

/** The `data` of a `heartbeat` event. */
export const Heartbeat = Type.Object({ ts: Timestamp }, { title: 'Heartbeat' });
