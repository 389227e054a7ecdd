import Type from 'typebox';
import { LocalizedText, PageMeta, Timestamp } from './common';
import { CanalLevels, StationRef, StationStatus } from './station';

export const WaterQuality = Type.Object(
  {
    class: Type.Integer({
      minimum: 2,
      maximum: 5,
      description: 'Thai surface-water class (NEB No. 8, 1994); 1 cannot be measured',
    }),
    label: LocalizedText,
    uses: LocalizedText,
    basis: Type.Array(Type.String(), { description: 'Parameters measured (do, ph...)' }),
    limitedBy: Type.Array(Type.String()),
    partial: Type.Boolean({ description: 'Parameters are missing (BOD, NH3-N) and could make the class worse' }),
    ts: Timestamp,
  },
  { title: 'WaterQuality' },
);

export const CanalLevel = Type.Object(
  {
    valueM: Type.Number(),
    ts: Timestamp,
    state: Type.Enum(['normal', 'warning', 'critical', 'overbank']),
    freeboardM: Type.Number({ description: 'Bank height minus level; negative over the bank' }),
    percentOfBank: Type.Number(),
  },
  { title: 'CanalLevel' },
);

/**
 * The rate of rise (@cnx/domain estimateRise, as on the dashboard and in the canal_rise alert rule).
 * `mPerHour`, `windowMinutes`, `warningMPerHour` and `risingFast` are the fields clients always had;
 * the others were added, so older clients keep working (they see `mPerHour: null` more often: it
 * now needs enough readings, and `risingFast` needs the rise beyond its uncertainty).
 */
export const CanalRise = Type.Object(
  {
    mPerHour: Type.Union([Type.Number(), Type.Null()], {
      description:
        'Least-squares slope of the level over the window, m/h (null: not enough data, see reason: ' +
        'fewer than 10 QC-clean readings, or spanning under 15 minutes)',
    }),
    uncertaintyMPerHour: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description:
        "Half-width of the slope's 95 % interval (Student's t × standard error), m/h: the rate is " +
        'mPerHour ± this (null with mPerHour)',
    }),
    trend: Type.Enum(['unknown', 'falling', 'steady', 'rising', 'rising_fast'], {
      description:
        'rising_fast: the whole 95 % interval is above warningMPerHour; rising / falling: it is clear of ' +
        '±0.02 m/h; steady otherwise; unknown: not enough data',
    }),
    reason: Type.Union([Type.Enum(['too_few_samples', 'too_short_span']), Type.Null()], {
      description: 'Why trend is unknown (null otherwise)',
    }),
    samples: Type.Integer({ minimum: 0, description: 'Readings in the window used for the fit' }),
    spanMinutes: Type.Number({ minimum: 0, description: 'Minutes from the first to the last reading used' }),
    windowMinutes: Type.Integer(),
    warningMPerHour: Type.Number({ description: 'City pack threshold' }),
    risingFast: Type.Boolean({
      description: 'trend is rising_fast: mPerHour − uncertaintyMPerHour is above warningMPerHour',
    }),
  },
  { title: 'CanalRise' },
);

export const CanalStatus = Type.Object(
  {
    station: StationRef,
    status: StationStatus,
    levels: CanalLevels,
    level: Type.Union([CanalLevel, Type.Null()]),
    rise: CanalRise,
    waterQuality: Type.Union([WaterQuality, Type.Null()]),
  },
  { title: 'CanalStatus' },
);

export const CanalList = Type.Object(
  {
    meta: Type.Object({ city: Type.String(), ...PageMeta, generatedAt: Timestamp }),
    data: Type.Array(CanalStatus),
  },
  { title: 'CanalList' },
);
