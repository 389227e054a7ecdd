/**
 * The alert texts of every city pack (issue 12: the city and waterway names and the time zone in an
 * alert come from the pack, never from code): each pack's rules, worded for its own stations and
 * districts, in its own local time, and naming no other city.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { type CityPack, loadCityPackSync, REPO_CITIES_DIR, resolveCityDir } from '@cnx/city-pack';
import { type AlertRule, alertText, formatUtcOffset, timeZoneOffsetMs } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import { eventPayload } from '../src/dispatcher';
import { cityInfo, loadRuleSet } from '../src/index';

const PACKS = new Map<string, CityPack>();
for (const e of readdirSync(REPO_CITIES_DIR, { withFileTypes: true })) {
  if (!e.isDirectory()) continue;
  const r = loadCityPackSync(resolveCityDir(e.name));
  if (!r.ok) throw new Error(`city pack ${e.name} is invalid`);
  PACKS.set(e.name, r.value);
}
const TS = Date.UTC(2026, 2, 15, 0, 30); // 15 March 2026, 00:30 UTC

/** Every name a pack gives its city and its waterways: words another city's texts must not contain. */
const namesOf = (p: CityPack) => [
  p.city.name.th,
  p.city.name.en,
  ...p.waterways.features.flatMap((w) => [w.properties.name_th, w.properties.name_en]),
];

describe.each([...PACKS.keys()])('alert texts of %s', (id) => {
  const pack = PACKS.get(id)!;
  const rules = loadRuleSet(path.join(resolveCityDir(id), 'alert-rules.json'), id);
  if (!rules.ok) throw new Error(rules.problems.join('\n'));
  const info = cityInfo(pack);
  const city = { name: info.name, timeZone: info.timeZone };
  const offset = formatUtcOffset(timeZoneOffsetMs(pack.city.timezone, TS));
  const others = [...PACKS.values()].filter((p) => p.city.id !== id).flatMap(namesOf);
  const subjectOf = (rule: AlertRule) => {
    const station = pack.stations.find((s) => s.kind === rule.stationKind)!;
    if (rule.scope === 'station') return station.name;
    return rule.scope === 'district' ? pack.districtById.get(station.district)!.name : pack.city.name;
  };

  it('has rules for both kinds of station this city has', () => {
    const kinds = new Set(rules.value.rules.map((r) => r.stationKind));
    for (const s of pack.stations) expect(kinds, s.id).toContain(s.kind);
  });

  it.each(rules.value.rules.map((r) => [r.id, r] as const))(
    '%s: names the rule, the place and the local time',
    (_, rule) => {
      for (const lang of ['th', 'en'] as const) {
        const subjectName = subjectOf(rule);
        const text = alertText(
          { rule, type: 'raised', level: 0, previousLevel: -1, value: 1.5, subjectName, ts: TS, city },
          lang,
        );
        const all = `${text.subject}\n${text.body}`;
        expect(all).toContain(rule.name[lang]);
        expect(all).toContain(subjectName[lang]);
        expect(text.body).toContain(pack.city.name[lang]);
        expect(text.body).toContain(`UTC${offset}`);
        for (const word of others) expect(all, `${id} ${lang} names ${word}`).not.toContain(word);
      }
    },
  );

  it("stamps the public event payload with the city's local time and offset", () => {
    const rule = rules.value.rules[0]!;
    const ev = {
      alert_id: 'a1',
      type: 'raised',
      rule_id: rule.id,
      subject_type: 'station',
      subject_id: pack.stations[0]!.id,
      level: 0,
      previous_level: -1,
      value: 40,
      ts: TS,
    };
    const body = eventPayload(id, ev as never, rule, pack.stations[0]!.name, TS, {
      name: info.name,
      timeZone: info.timeZone,
    });
    expect(body.time).toMatch(new RegExp(`^2026-03-15T\\d\\d:30:00\\${offset}$`));
    expect(new Date(body.time as string).getTime()).toBe(TS);
    expect(body.city).toBe(id);
  });
});
