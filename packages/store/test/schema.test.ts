import { METRIC_IDS } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import {
  correctedField,
  correctionField,
  FIELD_QC,
  FIELD_QC_METRICS,
  FIELD_SEQ,
  TAG_CITY,
  TAG_DEVICE,
  TAG_STATION,
} from '../src/schema';

describe('stored schema', () => {
  it('no tag and field share a name, and no two fields collide (InfluxDB 3 rule)', () => {
    const tags = [TAG_CITY, TAG_STATION, TAG_DEVICE];
    const fields = [
      FIELD_QC,
      FIELD_QC_METRICS,
      FIELD_SEQ,
      ...METRIC_IDS.flatMap((m) => [m, correctedField(m), correctionField(m)]),
    ];
    expect(new Set(fields).size).toBe(fields.length);
    for (const t of [...tags, 'time', '_field', '_measurement']) expect(fields).not.toContain(t);
  });
});
