import Type from 'typebox';
import { LocalizedText, Timestamp } from './common';
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

export const CanalStatus = Type.Object(
  {
    station: StationRef,
    status: StationStatus,
    levels: CanalLevels,
    level: Type.Union([CanalLevel, Type.Null()]),
    rise: Type.Object({
      mPerHour: Type.Union([Type.Number(), Type.Null()], {
        description: 'Least-squares slope of the level over the last hour (null: fewer than 2 readings)',
      }),
      windowMinutes: Type.Integer(),
      warningMPerHour: Type.Number({ description: 'City pack threshold' }),
      risingFast: Type.Boolean(),
    }),
    waterQuality: Type.Union([WaterQuality, Type.Null()]),
  },
  { title: 'CanalStatus' },
);

export const CanalList = Type.Object(
  {
    meta: Type.Object({ city: Type.String(), count: Type.Integer(), generatedAt: Timestamp }),
    data: Type.Array(CanalStatus),
  },
  { title: 'CanalList' },
);
