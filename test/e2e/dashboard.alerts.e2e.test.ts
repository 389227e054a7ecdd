/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * Issue 12 in a real browser over the whole stack (Mosquitto, gateway, API, alerts service, the built
 * dashboard) with a real SMTP server started here (smtp-server): a resident subscribes from the
 * dashboard ("near me" with a fake geolocation, email), confirms from the mail, manages and
 * unsubscribes from the alert mail; a public alert banner appears on open pages without a reload.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@cnx/api-client';
import { readingsBatchJson } from '@cnx/protocol';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startSmtp, waitFor } from '../../apps/alerts/test/helpers';
import { SHOTS, useCivicBrowser } from './civic.stack';
import { CITY } from './dashboard.stack';

const STATION = 'cm-air-oldcity-01';
const DISTRICT = 'old-city';
const RESIDENT = 'resident@example.org';

describe('alerts on the dashboard in a real browser', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const web = useCivicBrowser({
    alerts: async () => {
      smtp = await startSmtp();
      // Readings replayed below are up to 3 hours old: they still step the rules (not the API stream).
      return { ALERTS_SMTP_URL: smtp.url, ALERTS_LIVE_WINDOW_MIN: '600' };
    },
    cleanup: async () => {
      await smtp?.close();
    },
  });
  const { open, expectAccessible } = web;
  const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);

  it('subscribe "near me" by email in Thai, confirm from the mail, manage the settings', async () => {
    const api = createClient({ baseUrl: web.stack.apiUrl });
    const here = (await api.getStation(STATION)).location;
    const page = await open('/alerts/subscribe', { geolocation: { latitude: here.lat, longitude: here.lon } });
    expect(await page.textContent('h1')).toContain('รับการแจ้งเตือน');
    await page.check('input[name="where"][value="near"]');
    await page.click('[data-testid="near-me"]');
    await page.waitForSelector(`[data-testid="nearest"][data-station="${STATION}"]`);
    expect(await page.textContent('[data-testid="nearest"]')).toMatch(/สถานีที่ใกล้ที่สุด: .+ \(0[.,]0 กม\.\)/);
    await page.check('input[name="channel"][value="email"]');
    await page.fill('[data-testid="address"]', RESIDENT);
    await page.fill('[data-testid="threshold"]', '40');
    await expectAccessible(page, 'subscribe form');
    await page.click('[data-testid="subscribe-submit"]');
    await page.waitForSelector('[data-testid="subscribe-done"]');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-subscribe-done.png'), fullPage: true });

    const mail = await waitFor(() => mailsTo(RESIDENT)[0], 'the confirmation mail', 30_000);
    expect(mail.subject).toBe('ยืนยันการรับการแจ้งเตือน / Confirm your alert subscription');
    const link = new RegExp(`${web.stack.dashboardUrl}/alerts/confirm\\?token=[\\w-]+`).exec(mail.text)?.[0];
    expect(link, mail.text).toBeDefined();
    const confirm = await open(link!.slice(web.stack.dashboardUrl.length));
    // Opening the link alone confirms nothing (mail scanners open links): the button does.
    expect(await confirm.getAttribute('[data-testid="confirm"]', 'data-state')).toBe('ready');
    await confirm.click('[data-testid="confirm-button"]');
    await confirm.waitForSelector('[data-testid="confirm"][data-state="done"]');
    await confirm.click('[data-testid="manage-link"]');
    await confirm.waitForSelector('[data-testid="manage"][data-state="ready"]');
    expect(await confirm.textContent('[data-testid="manage-address"]')).toBe('r***@example.org');
    expect(await confirm.inputValue('[data-testid="manage-threshold"]')).toBe('40');
    await confirm.fill('[data-testid="manage-threshold"]', '37.6');
    await confirm.click('[data-testid="manage-save"]');
    await confirm.waitForSelector('[data-testid="saved"]');
    await confirm.screenshot({ path: path.join(SHOTS, 'alerts-manage.png'), fullPage: true });
    await expectAccessible(confirm, 'manage page');
  }, 120_000);

  it('a public alert banner appears on open pages without a reload; the alert mail unsubscribes in one click', async () => {
    const overview = await open('/');
    const station = await open(`/station/${STATION}`, { lang: 'en' });
    const district = await open(`/district/${DISTRICT}`);
    for (const p of [overview, station, district]) {
      await p.waitForSelector('[data-testid="live-status"][data-connected="true"]');
      expect(await p.$$('[data-testid="alert-banner"] article')).toHaveLength(0);
    }
    // Smoke at the Old City station: 1 h clean, then 2 h in the orange band (PCD 2023: 37.6 µg/m³),
    // as normalised readings on the bus (the alerts service's input), ending a minute ago.
    const bus = await mqtt.connectAsync(web.stack.broker.url, { clientId: 'e2e-alerts-smoke' });
    const t0 = Date.now() - 60_000 - 35 * 300_000;
    const readings = Array.from({ length: 36 }, (_, i) => {
      const ts = t0 + i * 300_000;
      return JSON.stringify({
        v: 1,
        city: CITY,
        station: STATION,
        device: `${STATION}-pms`,
        kind: 'air',
        district: DISTRICT,
        ts,
        values: { pm25: i < 12 ? 20 : 62 },
        corrections: [],
        qc: [],
        receivedAt: ts,
      });
    });
    await bus.publishAsync(`cnx/v1/${CITY}/readings`, readingsBatchJson(readings), { qos: 1 });
    await bus.endAsync();

    const active = '[data-testid="alert-banner"] article[data-status="active"]';
    for (const p of [overview, station, district]) await p.waitForSelector(active, { timeout: 30_000 });
    const th = (await overview.textContent(active)) ?? '';
    expect(th).toContain('ฝุ่น PM2.5 เฉลี่ย 1 ชั่วโมง');
    expect(th).toMatch(/ตั้งแต่ .*25\d\d .*ที่ผ่านมา/); // Buddhist-era year and the age
    const en = (await station.textContent(active)) ?? '';
    expect(en).toMatch(/PM2\.5 1-hour mean – Starts to affect health \(orange\)/);
    expect(en).toMatch(/since \d{1,2} \w{3} 20\d\d, \d\d:\d\d · .*ago/);
    await overview.screenshot({ path: path.join(SHOTS, 'alerts-banner-overview.png') });
    await expectAccessible(overview, 'overview with an alert');
    await station.screenshot({ path: path.join(SHOTS, 'alerts-banner-station-en.png') });

    // The resident near that station hears it by email; the mail's unsubscribe link works in one click.
    const alert = await waitFor(
      () => mailsTo(RESIDENT).find((m) => m.subject.includes('PM2.5')),
      'the alert mail',
      30_000,
    );
    expect(alert.headers).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const unsub = new RegExp(`${web.stack.dashboardUrl}/alerts/unsubscribe\\?token=[\\w-]+`).exec(alert.text)?.[0];
    expect(unsub, alert.text).toBeDefined();
    const page = await open(unsub!.slice(web.stack.dashboardUrl.length));
    await page.waitForSelector('[data-testid="unsubscribe"][data-state="done"]');
    const token = new URL(unsub!).searchParams.get('token')!;
    const gone = await fetch(`${web.stack.apiUrl}/v1/subscription`, { headers: { authorization: `Bearer ${token}` } });
    expect(gone.status).toBe(404);
  }, 120_000);

  it("the manage page downloads everything held about the address, then erases it after a confirmation (Thailand's PDPA)", async () => {
    const api = createClient({ baseUrl: web.stack.apiUrl });
    const who = 'pdpa@example.org';
    await api.createSubscription({ channel: 'email', address: who, district: DISTRICT, lang: 'en' });
    await api.createSubscription({ channel: 'email', address: who });
    await waitFor(() => mailsTo(who).length >= 2, 'two confirmations', 30_000);
    const tokens = mailsTo(who).map((m) => /alerts\/confirm\?token=([\w-]+)/.exec(m.text)![1]!);
    await api.confirmSubscription(tokens[0]!);
    const page = await open(`/alerts/manage?token=${tokens[0]}`, { lang: 'en' });
    await page.waitForSelector('[data-testid="manage"][data-state="ready"]');
    expect(await page.textContent('[data-testid="my-data"] h2')).toBe('Your data');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="data-download"]')]);
    expect(download.suggestedFilename()).toBe('cnx-sense-my-data.json');
    const doc = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(doc.contact.address).toBe(who);
    expect(doc.subscriptions.map((s: { status: string }) => s.status)).toEqual(['active', 'pending']);
    expect(JSON.stringify(doc)).not.toContain(RESIDENT);
    await page.waitForSelector('[data-testid="data-downloaded"]');
    // Erasing asks first; the question takes the focus.
    await page.click('[data-testid="data-erase"]');
    await page.waitForSelector('[data-testid="erase-confirm"]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('erase-yes');
    await expectAccessible(page, 'manage page, erase confirmation');
    await page.screenshot({ path: path.join(SHOTS, 'alerts-manage-erase.png'), fullPage: true });
    await page.click('[data-testid="erase-yes"]');
    await page.waitForSelector('[data-testid="manage"][data-state="erased"]');
    for (const t of tokens) {
      const res = await fetch(`${web.stack.apiUrl}/v1/subscription/data`, {
        headers: { authorization: `Bearer ${t}` },
      });
      expect(res.status).toBe(404);
    }
  }, 120_000);
});
