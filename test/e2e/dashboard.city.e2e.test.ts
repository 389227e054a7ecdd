/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * The second city, as data alone (issue 12): a whole stack started with CNX_CITY=lampang, in real
 * Chromium. Its overview speaks of Lampang and the Wang (from the pack, in Thai and English, on a phone
 * and a desktop: screenshots in test-results/screenshots/lampang-*), names no other city, lists its
 * river stations upstream to downstream; and the map people can read: district names never overlap
 * or leave the map, markers are at least 24 px on a phone, "near me" finds the nearest stations with a
 * (fake) browser location, and the optional base map draws tiles with their credit, off by default.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type CityPack, loadCityPack } from '@cnx/city-pack';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Rect, renderedLabels, renderedMarkers } from './dashboard.map';
import { type DashboardStack, ensureDashboardBuild, repoRoot, startDashboardStack } from './dashboard.stack';

const CITY = 'lampang';
const SHOTS = path.join(repoRoot, 'test-results/screenshots');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** A 1x1 PNG: what the test tile server answers for every tile. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const overlap = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

describe('a second city (Lampang) as data alone, in a real browser', () => {
  let stack: DashboardStack;
  let browser: Browser;
  let pack: CityPack;
  let others: string[];
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  async function open(
    url: string,
    opts: {
      lang?: 'th' | 'en';
      viewport?: { width: number; height: number };
      base?: string;
    } & BrowserContextOptions = {},
  ): Promise<Page> {
    const { lang, base = stack.dashboardUrl, ...options } = opts;
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    contexts.push(context);
    if (lang) await context.addCookies([{ name: 'lang', value: lang, url: base }]);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${url}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${url}: ${m.text()}`);
    });
    await page.goto(`${base}${url}`, { waitUntil: 'load' });
    await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 }); // interactive
    return page;
  }

  beforeAll(async () => {
    ensureDashboardBuild();
    stack = await startDashboardStack({ city: CITY });
    const loaded = await loadCityPack(path.join(stack.citiesDir, CITY));
    if (!loaded.ok) throw new Error('lampang pack invalid');
    pack = loaded.value;
    const cm = await loadCityPack(path.join(repoRoot, 'cities/chiang-mai'));
    if (!cm.ok) throw new Error('chiang-mai pack invalid');
    others = [
      cm.value.city.name.th,
      cm.value.city.name.en,
      ...cm.value.waterways.features.flatMap((w) => [w.properties.name_th, w.properties.name_en]),
    ];
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(SHOTS, { recursive: true });
    // A day of the city's air, so the overview shows official AQI bands.
    const acked = await stack.backfill({ devices: stack.devices, scenario: 'normal', hours: 26 });
    expect(acked).toBeGreaterThan(stack.devices.length * 250);
  }, 300_000);

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    const seen = errors.splice(0);
    expect(seen, `script errors on the pages of this test:\n${seen.join('\n')}`).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('the overview speaks of the city and its river, from the pack, in Thai and English (screenshots)', async () => {
    for (const lang of ['th', 'en'] as const) {
      for (const [name, viewport] of [
        ['phone', PHONE],
        ['desktop', DESKTOP],
      ] as const) {
        const page = await open('/', { lang, viewport });
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        const water = pack.city.waterwayPage!.name[lang];
        expect(await page.title()).toContain(pack.city.name[lang]);
        expect(await page.textContent('header .name')).toBe(`cnx-sense ${pack.city.name[lang]}`);
        expect(await page.textContent('main h1')).toContain(water);
        expect(await page.textContent('[data-testid="city-map"] title')).toContain(pack.city.name[lang]);
        const nav = page.locator('nav a[href="/canal"]');
        expect(await nav.textContent()).toBe(water);
        const html = await page.content();
        for (const word of others) expect(html, `${lang} ${name} names ${word}`).not.toContain(word);
        // Every station on the map, the air stations in the list, with official bands from the day of history.
        const markers = await page.$$eval('[data-testid="marker"]', (els) =>
          els.map((e) => e.getAttribute('data-station')),
        );
        expect(markers.sort()).toEqual(pack.stations.map((s) => s.id).sort());
        const listed = await page.$$eval('[data-testid="station-list"] li', (els) =>
          els.map((e) => e.getAttribute('data-station')),
        );
        expect(listed.sort()).toEqual(
          pack.stations
            .filter((s) => s.kind === 'air')
            .map((s) => s.id)
            .sort(),
        );
        expect(await page.locator('[data-testid="marker"][data-official="true"]').count()).toBeGreaterThan(5);
        await page.screenshot({ path: path.join(SHOTS, `lampang-overview-${lang}-${name}.png`), fullPage: true });
        await page
          .locator('[data-testid="city-map"]')
          .screenshot({ path: path.join(SHOTS, `lampang-map-${lang}-${name}.png`) });
      }
    }
  }, 120_000);

  it('the water page lists the river stations upstream to downstream, under the river name', async () => {
    const page = await open('/canal', { lang: 'en' });
    expect(await page.textContent('main h1')).toBe(`${pack.city.waterwayPage!.name.en}: level and water quality`);
    const shown = await page.$$eval('[data-testid="canal-list"] > li', (els) =>
      els.map((e) => e.getAttribute('data-station')),
    );
    expect(shown).toEqual(pack.flowOrder.map((f) => f.stationId));
    const along = await page.$$eval('[data-testid="along"]', (els) => els.map((e) => e.textContent ?? ''));
    expect(along).toHaveLength(shown.length);
    await page.screenshot({ path: path.join(SHOTS, 'lampang-water-en-desktop.png'), fullPage: true });
  });

  it.each([
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const)(
    'on a %s, district names never overlap one another or a marker, nor leave the map',
    async (_name, viewport) => {
      for (const lang of ['th', 'en'] as const) {
        const page = await open('/', { lang, viewport });
        const { map, labels } = await renderedLabels(page);
        const markers = await renderedMarkers(page);
        expect(labels.length, `${lang}`).toBeGreaterThanOrEqual(Math.ceil(pack.districts.features.length / 2));
        for (const l of labels) {
          expect(l.rect.left, l.id).toBeGreaterThanOrEqual(map.left - 0.5);
          expect(l.rect.right, l.id).toBeLessThanOrEqual(map.right + 0.5);
          expect(l.rect.top, l.id).toBeGreaterThanOrEqual(map.top - 0.5);
          expect(l.rect.bottom, l.id).toBeLessThanOrEqual(map.bottom + 0.5);
          for (const o of labels)
            if (o !== l) expect(overlap(l.rect, o.rect), `${lang}: ${l.id} / ${o.id}`).toBe(false);
          for (const m of markers) {
            const nx = Math.max(l.rect.left, Math.min(m.cx, l.rect.right));
            const ny = Math.max(l.rect.top, Math.min(m.cy, l.rect.bottom));
            expect(Math.hypot(nx - m.cx, ny - m.cy), `${lang}: ${l.id} under ${m.id}`).toBeGreaterThanOrEqual(
              m.rect.width / 2 - 0.5,
            );
          }
        }
      }
    },
  );

  it('on a 390-px phone every marker is a target of at least 24 px, its shape and number readable, none covering another', async () => {
    const page = await open('/', { viewport: PHONE });
    const markers = await renderedMarkers(page);
    expect(markers).toHaveLength(pack.stations.length);
    for (const m of markers) {
      expect(m.rect.width, m.id).toBeGreaterThanOrEqual(24);
      expect(m.rect.height, m.id).toBeGreaterThanOrEqual(24);
      // The visible shape (a square is the narrowest band shape) and the AQI number.
      expect(Math.min(m.shape.width, m.shape.height), m.id).toBeGreaterThanOrEqual(17);
      if (m.fontPx !== null) expect(m.fontPx, m.id).toBeGreaterThanOrEqual(10.5);
    }
    for (const a of markers) {
      for (const b of markers) {
        if (a === b) continue;
        const d = Math.hypot(a.cx - b.cx, a.cy - b.cy);
        expect(d, `${a.id} / ${b.id}`).toBeGreaterThanOrEqual(Math.min(a.rect.width, b.rect.width) * 0.9);
      }
    }
    // On a desktop the same markers are drawn at their usual size.
    const desk = await renderedMarkers(await open('/', { viewport: DESKTOP }));
    expect(Math.max(...desk.map((m) => m.rect.width))).toBeLessThan(
      Math.min(...markers.map((m) => m.rect.width)) * 1.5,
    );
  });

  it('"near me" finds the nearest stations with the browser location, and marks them on the map', async () => {
    const target = pack.stationById.get('lp-air-sirong-01')!;
    // ~40 m north-east of the station.
    const at = { latitude: target.location.lat + 0.0003, longitude: target.location.lon + 0.0002 };
    const page = await open('/', { viewport: PHONE, geolocation: at, permissions: ['geolocation'], lang: 'en' });
    await page.locator('[data-testid="live-status"][data-connected="true"]').waitFor({ timeout: 15_000 });
    await page.click('[data-testid="near-me-button"]');
    const list = page.locator('[data-testid="near-me-list"] li');
    await list.first().waitFor({ timeout: 15_000 });
    const ids = await list.evaluateAll((els) => els.map((e) => e.getAttribute('data-station')));
    const rad = Math.PI / 180;
    const dist = (s: (typeof pack.stations)[number]) =>
      Math.hypot((s.location.lon - at.longitude) * Math.cos(at.latitude * rad), s.location.lat - at.latitude);
    const expected = [...pack.stations]
      .sort((a, b) => dist(a) - dist(b))
      .slice(0, 3)
      .map((s) => s.id);
    expect(ids).toEqual(expected);
    expect(Number(await list.first().getAttribute('data-metres'))).toBeLessThan(60);
    expect(await list.first().textContent()).toContain(target.name.en);
    // The map marks them (1 = nearest) and shows where the reader is, beside the nearest station.
    for (const [i, id] of expected.entries())
      expect(await page.getAttribute(`[data-testid="marker"][data-station="${id}"]`, 'data-near')).toBe(String(i + 1));
    const dot = await page.getAttribute('[data-testid="you-are-here"]', 'transform');
    const [dx, dy] = (/translate\(([-\d.]+),([-\d.]+)\)/.exec(dot ?? '') ?? []).slice(1).map(Number);
    const [sx, sy] = (await page.getAttribute(`[data-testid="marker"][data-station="${target.id}"]`, 'data-at'))!
      .split(',')
      .map(Number);
    expect(Math.hypot(dx! - sx!, dy! - sy!)).toBeLessThan(8); // 40 m is a few map units
    await page.screenshot({ path: path.join(SHOTS, 'lampang-near-me-en-phone.png'), fullPage: true });
  });

  it('"near me" without permission says so and marks nothing', async () => {
    const page = await open('/', { lang: 'en', permissions: [] });
    await page.locator('[data-testid="live-status"][data-connected="true"]').waitFor({ timeout: 15_000 });
    await page.click('[data-testid="near-me-button"]');
    await page.locator('[data-testid="near-me-error"]').waitFor({ timeout: 15_000 });
    expect(await page.textContent('[data-testid="near-me-error"]')).toMatch(/permission/i);
    expect(await page.locator('[data-near]').count()).toBe(0);
  });

  it('the base map is off by default (no request leaves for another server) and, when set, draws tiles with their credit', async () => {
    const origins = new Set<string>();
    const plain = await browser.newContext({ viewport: DESKTOP });
    contexts.push(plain);
    const page = await plain.newPage();
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    await page.goto(`${stack.dashboardUrl}/`, { waitUntil: 'load' });
    await page.locator('[data-testid="live-status"][data-connected="true"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="basemap"]').count()).toBe(0);
    expect(await page.locator('[data-testid="basemap-attribution"]').count()).toBe(0);
    expect([...origins].sort()).toEqual([stack.apiUrl, stack.dashboardUrl].sort());

    const served: string[] = [];
    const tiles = http.createServer((req, res) => {
      served.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(PNG);
    });
    await new Promise<void>((r) => tiles.listen(0, '127.0.0.1', r));
    try {
      const port = (tiles.address() as AddressInfo).port;
      const base = await stack.startDashboard({
        DASHBOARD_BASEMAP_URL: `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`,
        DASHBOARD_BASEMAP_ATTRIBUTION: '© Test tiles contributors',
      });
      const withTiles = await open('/', { base, viewport: PHONE, lang: 'en' });
      const images = withTiles.locator('[data-testid="basemap"] image');
      const count = await images.count();
      expect(count).toBeGreaterThan(1);
      await expect.poll(() => served.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(count);
      for (const u of served) expect(u).toMatch(/^\/tiles\/\d+\/\d+\/\d+\.png$/);
      expect(await withTiles.textContent('[data-testid="basemap-attribution"]')).toBe(
        'Base map: © Test tiles contributors',
      );
      await withTiles.screenshot({ path: path.join(SHOTS, 'lampang-basemap-en-phone.png'), fullPage: true });
    } finally {
      await new Promise((r) => tiles.close(r));
    }
  });
});
