import { AQI_BANDS, overallAqi } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import { thaiLegend } from './legend';

describe('the map legend', () => {
  it('lists the five Thai bands with their colours, index and PM2.5 ranges', () => {
    const rows = thaiLegend();
    expect(rows.map((r) => r.index)).toEqual(['0–25', '26–50', '51–100', '101–200', '> 200']);
    expect(rows.map((r) => r.pm25)).toEqual(['0.0–15.0', '15.1–25.0', '25.1–37.5', '37.6–75.0', '≥ 75.1']);
    expect(rows.map((r) => r.color)).toEqual(AQI_BANDS['th-pcd-2023'].map((b) => b.color));
  });

  it('agrees with the index: each range’s ends fall in its own band', () => {
    for (const r of thaiLegend()) {
      const [lo, hi] = r.pm25.replace('≥ ', '').split('–').map(Number) as [number, number | undefined];
      for (const c of [lo, hi ?? lo + 50])
        expect(overallAqi('th-pcd-2023', { pm25: c })!.overall.level, `${c}`).toBe(r.level);
    }
  });
});
