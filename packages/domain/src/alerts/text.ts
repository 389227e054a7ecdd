/**
 * Bilingual alert text (Thai first, English second, as everywhere in the city pack). Pure, so the
 * same words go to email, LINE, Web Push and the webhook.
 */
import type { LocalizedText } from '../types';
import { formatLocalMinute, formatUtcOffset, timeZoneOffsetMs } from '../util/timezone';
import type { AlertRule, AlertTransitionType } from './types';

export type AlertLang = 'th' | 'en';

export interface AlertMessageInput {
  rule: AlertRule;
  type: AlertTransitionType;
  level: number;
  previousLevel: number;
  value: number | undefined;
  subjectName: LocalizedText;
  /** Observation time, epoch ms. */
  ts: number;
  /** The city (city pack city.json): its name and time zone, for the time line of the message. */
  city: AlertCity;
}

export interface AlertCity {
  name: LocalizedText;
  /** IANA time zone, e.g. city.json `timezone`. */
  timeZone: string;
}

const UNITS: Record<AlertRule['signal'], string> = {
  pm25_1h: 'µg/m³',
  pm25_24h: 'µg/m³',
  canal_level: 'm',
  canal_rise: 'm/h',
  do_low: 'mg/L',
  offline: 'min',
  stuck: 'min',
};

const VERB: Record<AlertTransitionType, LocalizedText> = {
  raised: { th: 'แจ้งเตือน', en: 'Alert' },
  escalated: { th: 'ระดับสูงขึ้น', en: 'Escalated' },
  deescalated: { th: 'ระดับลดลง', en: 'Lowered' },
  renotify: { th: 'ยังคงเตือน', en: 'Still active' },
  cleared: { th: 'ยกเลิกการเตือน', en: 'Cleared' },
};

/**
 * When, in the city's own time: "2025-03-10 14:00 (เวลา<city>, UTC+07:00)" / "2025-03-10 14:00 (<city>
 * time, UTC+07:00)", the city's name from its pack. The offset keeps it unambiguous for a reader elsewhere.
 */
export function formatAlertTime(ts: number, city: AlertCity, lang: AlertLang): string {
  const zone = `UTC${formatUtcOffset(timeZoneOffsetMs(city.timeZone, ts))}`;
  const local = formatLocalMinute(ts, city.timeZone);
  return lang === 'th' ? `${local} (เวลา${city.name.th}, ${zone})` : `${local} (${city.name.en} time, ${zone})`;
}

export function formatAlertValue(rule: AlertRule, value: number | undefined): string {
  if (value === undefined) return '–';
  const digits = rule.signal === 'offline' || rule.signal === 'stuck' ? 0 : 2;
  // canal_rise is the bound of the rate's 95 % interval (signals.ts canalRiseSignal): "at least".
  const bound = rule.signal === 'canal_rise' ? (rule.direction === 'above' ? '≥ ' : '≤ ') : '';
  return `${bound}${value.toFixed(digits)} ${UNITS[rule.signal]}`;
}

export interface AlertText {
  subject: string;
  body: string;
}

export function alertText(m: AlertMessageInput, lang: AlertLang): AlertText {
  const lvl = m.rule.levels[m.type === 'cleared' ? m.previousLevel : m.level];
  const levelLabel = lvl ? lvl.label[lang] : '';
  const verb = VERB[m.type][lang];
  const subject = `[${verb}] ${m.rule.name[lang]}${levelLabel ? ` – ${levelLabel}` : ''} – ${m.subjectName[lang]}`;
  const when = formatAlertTime(m.ts, m.city, lang);
  const value = formatAlertValue(m.rule, m.value);
  const body =
    lang === 'th'
      ? `${verb}: ${m.rule.name.th} ที่ ${m.subjectName.th}\nระดับ: ${levelLabel}\nค่าที่วัดได้: ${value}\nเวลา: ${when}`
      : `${verb}: ${m.rule.name.en} at ${m.subjectName.en}\nLevel: ${levelLabel}\nMeasured: ${value}\nTime: ${when}`;
  return { subject, body };
}
