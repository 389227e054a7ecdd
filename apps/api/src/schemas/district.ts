import Type from 'typebox';
import { AqiIndex, StationLatest } from './air';
import { LocalizedText, PageMeta, Timestamp } from './common';

export const DistrictRef = Type.Object(
  { id: Type.String(), name: LocalizedText, kind: Type.String() },
  { title: 'DistrictRef' },
);

export const DistrictSummary = Type.Object(
  {
    district: DistrictRef,
    stations: Type.Object({ air: Type.Integer(), canal: Type.Integer(), online: Type.Integer() }),
    aqi: Type.Object({
      th: Type.Union([AqiIndex, Type.Null()], { description: "The worst air station's Thai AQI" }),
      us: Type.Union([AqiIndex, Type.Null()], { description: "The worst air station's US AQI" }),
      now: Type.Union([AqiIndex, Type.Null()], {
        description: 'The worst air station’s Thai "now" index (not official)',
      }),
      band: Type.Union([AqiIndex, Type.Null()], {
        description: 'The worst of the stations’ shown Thai bands (StationLatest air.aqi.band): official where valid',
      }),
    }),
    worstStation: Type.Union(
      [
        Type.Object({ id: Type.String(), name: LocalizedText, aqi: Type.Integer(), scheme: Type.String() }),
        Type.Null(),
      ],
      { description: 'The air station with the highest AQI (the city primary scheme first)' },
    ),
    pm25: Type.Object({
      hour1Mean: Type.Union([Type.Number(), Type.Null()], { description: 'Mean of the stations’ current-hour means' }),
      rolling24hMean: Type.Union([Type.Number(), Type.Null()], {
        description: 'Mean of the stations’ valid rolling 24-hour means',
      }),
    }),
    trend: Type.Object({
      direction: Type.Enum(['rising', 'falling', 'steady', 'unknown']),
      ratePerHour: Type.Union([Type.Number(), Type.Null()], {
        description: 'Least-squares slope of the district mean PM2.5 over the last 3 hourly means, µg/m³ per hour',
      }),
    }),
    canal: Type.Union(
      [
        Type.Object({
          worstState: Type.Enum(['normal', 'warning', 'critical', 'overbank', 'unknown']),
          stationId: Type.Union([Type.String(), Type.Null()]),
        }),
        Type.Null(),
      ],
      { description: 'Canal stations of the district, if any' },
    ),
  },
  { title: 'DistrictSummary' },
);

export const DistrictList = Type.Object(
  {
    meta: Type.Object({ city: Type.String(), ...PageMeta, generatedAt: Timestamp }),
    data: Type.Array(DistrictSummary),
  },
  { title: 'DistrictList' },
);

export const DistrictDetail = Type.Object(
  {
    meta: Type.Object({ city: Type.String(), generatedAt: Timestamp }),
    data: Type.Object({ summary: DistrictSummary, stations: Type.Array(StationLatest) }),
  },
  { title: 'DistrictDetail' },
);
