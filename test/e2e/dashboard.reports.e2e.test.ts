/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * Issue 12 item 3 in a real browser over the whole stack (Mosquitto, gateway, API, the alerts service
 * with a staff file, the built dashboard): a resident reports smoke from /report in Thai with "use my
 * location" (a fake geolocation) and a phone photo carrying GPS EXIF; a staff member signs in on
 * /staff/reports with their token and approves it; the report appears on an open overview map without a
 * reload (the stream's `event: report`), on a fresh one, in the legend's terms, and in the GeoJSON; its
 * published photo carries no metadata.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@cnx/api-client';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { SHOTS, useCivicBrowser } from './civic.stack';

const STATION = 'cm-air-oldcity-01';
const STAFF_TOKEN = 'malee-staff-token-abcdefghijkl';

describe('citizen reports on the dashboard in a real browser', () => {
  const web = useCivicBrowser({
    alerts: async (dir) => {
      const staffFile = path.join(dir, 'staff.json');
      writeFileSync(
        staffFile,
        JSON.stringify([
          {
            id: 'malee',
            name: 'Malee Srisuk',
            token: STAFF_TOKEN,
            tier: 0,
            channel: 'webhook',
            address: 'http://127.0.0.1:9/malee',
          },
        ]),
      );
      return { ALERTS_STAFF_FILE: staffFile };
    },
  });
  const { open, expectAccessible } = web;

  it('report with my location and a photo, approve as staff, see it on the map and in the GeoJSON', async () => {
    const api = createClient({ baseUrl: web.stack.apiUrl });
    const here = (await api.getStation(STATION)).location;
    // A phone photo: JPEG with the camera's position in its EXIF.
    const photo = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#7a7a86' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'PhoneMaker' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '18/1 47/1 19/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '98/1 59/1 3/1',
        },
      })
      .toBuffer();
    expect(exifReader((await sharp(photo).metadata()).exif!).GPSInfo?.GPSLatitudeRef).toBe('N');

    // An overview left open: the report must appear on it once approved, without a reload.
    const overview = await open('/', { lang: 'en' });
    await overview.waitForSelector('[data-testid="live-status"][data-connected="true"]');
    expect(await overview.locator('[data-testid="report-marker"]').count()).toBe(0);
    expect(await overview.textContent('[data-testid="legend-report"]')).toContain('Citizen report');

    // The resident, in Thai, with "use my location".
    const page = await open('/report', { geolocation: { latitude: here.lat, longitude: here.lon } });
    expect(await page.textContent('h1')).toContain('แจ้งควัน');
    await page.click('[data-testid="use-location"]');
    await page.waitForSelector('[data-testid="picked-marker"]');
    expect(await page.textContent('[data-testid="picked"]')).toContain('ตำแหน่งที่เลือก');
    await page.check('input[name="category"][value="smoke"]');
    await page.fill('[data-testid="report-text"]', 'ควันดำจากการเผาขยะหลังตลาด');
    await page.setInputFiles('[data-testid="report-photo"]', {
      name: 'IMG_0001.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await expectAccessible(page, 'report form');
    await page.screenshot({ path: path.join(SHOTS, 'report-form.png'), fullPage: true });
    await page.click('[data-testid="report-submit"]');
    await page.waitForSelector('[data-testid="report-sent"]');
    const id = Number(await page.getAttribute('[data-testid="report-sent"]', 'data-report'));
    expect(id).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid="report-sent"]')).toContain(`เรื่องหมายเลข ${id}`);

    // Staff, in English: the token typed into the page, the report with its photo and nearby alerts.
    const staff = await open('/staff/reports', { lang: 'en' });
    await staff.fill('[data-testid="staff-token"]', STAFF_TOKEN);
    await staff.click('[data-testid="staff-sign-in"] button[type="submit"]');
    const card = staff.locator(`[data-testid="staff-report"][data-report="${id}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('ควันดำจากการเผาขยะหลังตลาด');
    // The nearby alerts are fetched after the card is drawn: wait for them.
    await card.getByText('Sensor alerts within 3 km, from 6 h before to 6 h after the report').waitFor();
    const img = card.locator('[data-testid="staff-photo"]');
    await img.waitFor();
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth), { timeout: 10_000 }).toBe(1600);
    // The token is nowhere but in the page's memory: no cookie, no storage.
    expect((await staff.context().cookies()).map((c) => c.name)).toEqual(['lang']);
    expect(await staff.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    await expectAccessible(staff, 'staff moderation');
    await staff.screenshot({ path: path.join(SHOTS, 'report-staff.png'), fullPage: true });
    await card.locator('[data-testid="approve"]').click();
    await staff.waitForSelector('[data-testid="staff-notice"]');
    await card.waitFor({ state: 'detached' });

    // On the open overview without a reload, and on a fresh one (Thai), with the legend entry.
    await overview.waitForSelector(`[data-testid="report-marker"][data-report="${id}"]`, { timeout: 20_000 });
    expect(await overview.getAttribute(`[data-testid="report-marker"][data-report="${id}"]`, 'data-category')).toBe(
      'smoke',
    );
    const fresh = await open('/');
    await fresh.waitForSelector(`[data-testid="report-marker"][data-report="${id}"]`);
    expect(await fresh.textContent('[data-testid="legend-report"]')).toContain('เรื่องที่ประชาชนแจ้ง');
    const listed = await fresh.textContent(`[data-testid="report-list"] [data-report="${id}"]`);
    expect(listed).toContain('ควันดำจากการเผาขยะหลังตลาด');
    // Thai dates in the Buddhist era (2026 CE = 2569 BE).
    expect(listed).toMatch(/25[6-9]\d/);
    await fresh.screenshot({ path: path.join(SHOTS, 'report-on-map.png'), fullPage: true });

    // The open data: GeoJSON with the point rounded, and the photo without any metadata.
    const fc = await api.listReports();
    const f = fc.features.find((x) => x.id === id);
    expect(f?.geometry.coordinates).toEqual([Math.round(here.lon * 1e4) / 1e4, Math.round(here.lat * 1e4) / 1e4]);
    expect(f?.properties).toMatchObject({ category: 'smoke', photoUrl: `/v1/reports/${id}/photo` });
    const published = Buffer.from(await (await api.getReportPhoto(id)).arrayBuffer());
    const meta = await sharp(published).metadata();
    expect({ format: meta.format, exif: meta.exif }).toEqual({ format: 'jpeg', exif: undefined });
  }, 180_000);
});
