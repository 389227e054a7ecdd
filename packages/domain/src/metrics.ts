/**
 * The metric registry: every quantity the system knows, its canonical unit and its physically
 * possible range. The range is a plausibility bound for QC (flag `range`) and a hard bound for
 * rejection (values outside `hardMin..hardMax` are impossible and the reading is rejected).
 * Sources: PMS5003 datasheet (0–1000 µg/m³ effective range, 0–500 "maximum range" for PM2.5 standard
 * accuracy), typical urban water probes (DO 0–20 mg/L, pH 0–14).
 */
export const METRIC_IDS = [
  'pm1',
  'pm25',
  'pm10',
  'temperature',
  'humidity',
  'water_level',
  'do',
  'ph',
  'turbidity',
  'conductivity',
  'water_temperature',
  'battery',
] as const;

export type MetricId = (typeof METRIC_IDS)[number];

export interface MetricDef {
  id: MetricId;
  /** Canonical unit, as a SenML (RFC 8428 / IANA registry) style symbol where one exists. */
  unit: string;
  /** Unit symbols accepted on input that mean exactly the canonical unit. */
  unitAliases: readonly string[];
  label: { th: string; en: string };
  /** Plausible range: outside it the reading is kept but flagged `range`. */
  min: number;
  max: number;
  /** Impossible range: outside it the value cannot be physical and the reading is rejected. */
  hardMin: number;
  hardMax: number;
  /** Decimal places worth keeping (storage and display). */
  decimals: number;
}

const def = (d: MetricDef): MetricDef => d;

export const METRICS: Readonly<Record<MetricId, MetricDef>> = {
  pm1: def({
    id: 'pm1',
    unit: 'ug/m3',
    unitAliases: ['µg/m3', 'µg/m³', 'ug/m³'],
    label: { th: 'ฝุ่น PM1', en: 'PM1' },
    min: 0,
    max: 1000,
    hardMin: 0,
    hardMax: 5000,
    decimals: 1,
  }),
  pm25: def({
    id: 'pm25',
    unit: 'ug/m3',
    unitAliases: ['µg/m3', 'µg/m³', 'ug/m³'],
    label: { th: 'ฝุ่น PM2.5', en: 'PM2.5' },
    min: 0,
    max: 1000,
    hardMin: 0,
    hardMax: 5000,
    decimals: 1,
  }),
  pm10: def({
    id: 'pm10',
    unit: 'ug/m3',
    unitAliases: ['µg/m3', 'µg/m³', 'ug/m³'],
    label: { th: 'ฝุ่น PM10', en: 'PM10' },
    min: 0,
    max: 1500,
    hardMin: 0,
    hardMax: 5000,
    decimals: 1,
  }),
  temperature: def({
    id: 'temperature',
    unit: 'Cel',
    unitAliases: ['°C', 'C', 'degC'],
    label: { th: 'อุณหภูมิ', en: 'Temperature' },
    min: 0,
    max: 50,
    hardMin: -40,
    hardMax: 85,
    decimals: 1,
  }),
  humidity: def({
    id: 'humidity',
    unit: '%RH',
    unitAliases: ['%', 'RH'],
    label: { th: 'ความชื้นสัมพัทธ์', en: 'Relative humidity' },
    min: 0,
    max: 100,
    hardMin: 0,
    hardMax: 100,
    decimals: 1,
  }),
  water_level: def({
    id: 'water_level',
    unit: 'm',
    unitAliases: [],
    label: { th: 'ระดับน้ำ', en: 'Water level' },
    min: 0,
    max: 8,
    hardMin: -1,
    hardMax: 20,
    decimals: 3,
  }),
  do: def({
    id: 'do',
    unit: 'mg/L',
    unitAliases: ['mg/l'],
    label: { th: 'ออกซิเจนละลายน้ำ', en: 'Dissolved oxygen' },
    min: 0,
    max: 15,
    hardMin: 0,
    hardMax: 25,
    decimals: 2,
  }),
  ph: def({
    id: 'ph',
    unit: 'pH',
    unitAliases: [],
    label: { th: 'ค่าความเป็นกรด-ด่าง', en: 'pH' },
    min: 4,
    max: 10,
    hardMin: 0,
    hardMax: 14,
    decimals: 2,
  }),
  turbidity: def({
    id: 'turbidity',
    unit: 'NTU',
    unitAliases: [],
    label: { th: 'ความขุ่น', en: 'Turbidity' },
    min: 0,
    max: 1000,
    hardMin: 0,
    hardMax: 4000,
    decimals: 1,
  }),
  conductivity: def({
    id: 'conductivity',
    unit: 'uS/cm',
    unitAliases: ['µS/cm'],
    label: { th: 'ค่าการนำไฟฟ้า', en: 'Conductivity' },
    min: 0,
    max: 2000,
    hardMin: 0,
    hardMax: 100000,
    decimals: 0,
  }),
  water_temperature: def({
    id: 'water_temperature',
    unit: 'Cel',
    unitAliases: ['°C', 'C', 'degC'],
    label: { th: 'อุณหภูมิน้ำ', en: 'Water temperature' },
    min: 10,
    max: 40,
    hardMin: -5,
    hardMax: 60,
    decimals: 1,
  }),
  battery: def({
    id: 'battery',
    unit: '%EL',
    unitAliases: ['%'],
    label: { th: 'แบตเตอรี่', en: 'Battery' },
    min: 0,
    max: 100,
    hardMin: 0,
    hardMax: 100,
    decimals: 0,
  }),
};

export const isMetricId = (s: string): s is MetricId => Object.hasOwn(METRICS, s);
