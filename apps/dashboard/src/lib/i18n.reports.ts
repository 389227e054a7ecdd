/**
 * Messages of the citizen report pages, the staff moderation page and the map's report layer (issue 12
 * item 3), Thai first, English second: a catalogue of its own beside i18n.ts, built the same way (a
 * missing translation is a type error; i18n.reports.test.ts checks both sides).
 */
import type { Lang } from './i18n';

const th = {
  navReport: 'แจ้งเหตุ',
  reportTitle: 'แจ้งควัน การเผา น้ำท่วม หรือน้ำเสีย',
  reportIntro:
    'ไม่ต้องมีบัญชี เจ้าหน้าที่จะตรวจทุกเรื่องก่อนแสดงบนแผนที่ ภาพถ่ายจะถูกลบข้อมูลตำแหน่งและข้อมูลกล้องออกก่อนเก็บ เราไม่เก็บที่อยู่ IP ของคุณ',
  where: 'ที่ไหน',
  tapMap: 'แตะแผนที่ตรงจุดที่เห็น หรือ',
  useLocation: 'ใช้ตำแหน่งของฉัน',
  locating: 'กำลังหาตำแหน่ง…',
  geoFailed: 'หาตำแหน่งไม่ได้ โปรดแตะแผนที่',
  picked: 'ตำแหน่งที่เลือก: {lat}, {lon}',
  noPoint: 'ยังไม่ได้เลือกตำแหน่ง',
  pickMapLabel: 'แผนที่สำหรับเลือกตำแหน่งที่เกิดเหตุ',
  category: 'เรื่อง',
  cat_smoke: 'ควัน',
  cat_open_burning: 'การเผาในที่โล่ง',
  cat_canal_flooding: 'น้ำท่วม/น้ำล้นคลอง',
  cat_polluted_water: 'น้ำเสีย',
  text: 'รายละเอียดสั้น ๆ (ไม่เกิน 500 ตัวอักษร)',
  photo: 'ภาพถ่าย (ไม่บังคับ: JPEG, PNG หรือ WebP ไม่เกิน 4 MB)',
  photoTooLarge: 'ภาพใหญ่เกิน 4 MB',
  send: 'ส่งเรื่อง',
  sending: 'กำลังส่ง…',
  sentTitle: 'ขอบคุณ ได้รับเรื่องแล้ว',
  sentBody: 'เรื่องหมายเลข {id} เจ้าหน้าที่จะตรวจสอบ เมื่ออนุมัติแล้วจะแสดงบนแผนที่',
  failed: 'ส่งไม่สำเร็จ: {m}',
  layerName: 'เรื่องที่ประชาชนแจ้ง',
  legendReport: 'เรื่องที่ประชาชนแจ้ง (เจ้าหน้าที่ตรวจแล้ว)',
  reportsHeading: 'เรื่องที่ประชาชนแจ้งล่าสุด',
  reportedAt: 'แจ้งเมื่อ {t}',
  duplicates: 'มีผู้แจ้งเรื่องเดียวกันอีก {n} คน',
  noReports: 'ยังไม่มีเรื่องที่อนุมัติ',
  staffTitle: 'ตรวจเรื่องที่ประชาชนแจ้ง (เจ้าหน้าที่)',
  staffIntro: 'ใส่รหัสเจ้าหน้าที่ของคุณ รหัสจะอยู่ในหน้านี้เท่านั้น (ไม่เก็บในคุกกี้หรือในเครื่อง) และส่งไปกับแต่ละคำขอ ปิดหรือโหลดหน้าใหม่ต้องใส่อีกครั้ง',
  token: 'รหัสเจ้าหน้าที่',
  signIn: 'เข้าใช้',
  signOut: 'ออก',
  badToken: 'รหัสไม่ถูกต้อง',
  pending: 'รอตรวจ ({n})',
  nonePending: 'ไม่มีเรื่องรอตรวจ',
  nearAlerts: 'การแจ้งเตือนจากเซนเซอร์ในรัศมี {km} กม. ตั้งแต่ {before} ชม. ก่อนถึง {after} ชม. หลังการแจ้ง',
  noNearAlerts: 'ไม่มีการแจ้งเตือนจากเซนเซอร์ใกล้ ๆ ในช่วงนั้น',
  nearReports: 'เรื่องอื่นที่แจ้งใกล้ ๆ ในช่วงเดียวกัน',
  distance: '{m} ม.',
  approve: 'อนุมัติ',
  reject: 'ไม่อนุมัติ',
  reason: 'เหตุผล (ไม่เปิดเผย)',
  merge: 'รวมกับเรื่อง',
  mergeInto: 'เรื่องหมายเลข',
  audit: 'ประวัติ',
  done: '{action} เรื่อง {id} แล้ว',
  location: 'ตำแหน่ง',
  photoLink: 'ภาพถ่าย',
  keysHelp: 'ใช้ปุ่มลูกศรเลื่อนตำแหน่งได้',
} as const;

type Key = keyof typeof th;
type Messages = { readonly [K in Key]: string };

const en: Messages = {
  navReport: 'Report',
  reportTitle: 'Report smoke, burning, flooding or polluted water',
  reportIntro:
    'No account needed. Staff check every report before it is on the map. Location and camera details are removed from photos before they are kept. Your IP address is not stored.',
  where: 'Where',
  tapMap: 'Tap the map where you see it, or',
  useLocation: 'Use my location',
  locating: 'Finding your location…',
  geoFailed: 'Your location is not available: please tap the map',
  picked: 'Chosen place: {lat}, {lon}',
  noPoint: 'No place chosen yet',
  pickMapLabel: 'Map to choose where it is',
  category: 'What',
  cat_smoke: 'Smoke',
  cat_open_burning: 'Open burning',
  cat_canal_flooding: 'Canal flooding',
  cat_polluted_water: 'Polluted water',
  text: 'A short description (up to 500 characters)',
  photo: 'Photo (optional: JPEG, PNG or WebP, up to 4 MB)',
  photoTooLarge: 'The photo is larger than 4 MB',
  send: 'Send report',
  sending: 'Sending…',
  sentTitle: 'Thank you: report received',
  sentBody: 'Report number {id}. Staff will check it; once approved it is shown on the map.',
  failed: 'Not sent: {m}',
  layerName: 'Citizen reports',
  legendReport: 'Citizen report (checked by staff)',
  reportsHeading: 'Latest citizen reports',
  reportedAt: 'reported {t}',
  duplicates: '{n} more people reported the same',
  noReports: 'No approved reports yet',
  staffTitle: 'Citizen reports: moderation (staff)',
  staffIntro:
    'Enter your staff token. It stays in this page only (no cookie, no storage) and is sent with each request; closing or reloading the page asks for it again.',
  token: 'Staff token',
  signIn: 'Sign in',
  signOut: 'Sign out',
  badToken: 'The token is not valid',
  pending: 'Waiting ({n})',
  nonePending: 'No reports waiting',
  nearAlerts: 'Sensor alerts within {km} km, from {before} h before to {after} h after the report',
  noNearAlerts: 'No sensor alerts nearby in that window',
  nearReports: 'Other reports nearby in the same window',
  distance: '{m} m',
  approve: 'Approve',
  reject: 'Reject',
  reason: 'Reason (not public)',
  merge: 'Merge into',
  mergeInto: 'Report number',
  audit: 'History',
  done: '{action}: report {id}',
  location: 'Location',
  photoLink: 'Photo',
  keysHelp: 'The arrow keys move the place',
};

export const reportsCatalogue: Readonly<Record<Lang, Messages>> = { th, en };
export type ReportsKey = Key;

/** A report-page message in `lang`, `{name}` placeholders filled from `params`. */
export function tr(lang: Lang, key: Key, params?: Record<string, string | number>): string {
  const text = reportsCatalogue[lang][key];
  return params ? text.replace(/\{(\w+)\}/g, (w, n: string) => (n in params ? String(params[n]) : w)) : text;
}
