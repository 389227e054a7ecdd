/// <reference lib="dom" />
/**
 * `npm start` on a fresh data folder, as a new user runs it (scripts/start.ts, every app a process:
 * embedded broker and SQLite, simulated fleet, the history backfill), seen in real Chromium. The
 * issue: after a fresh start every marker was grey "no data" for hours (the official 24-hour mean
 * needs most of a day), advice was missing, and the legend was five grey shapes.
 *
 * 1. With the default backfill, every air station has an official band on the first screen, in
 *    Thai and English; the legend has colours and ranges; a station page has advice and its basis.
 * 2. With the backfill off (CNX_BACKFILL_DAYS=0), every station still gets a band as soon as it has
 *    reported: the Thai "now" band, marked as not official (dashed outline, basis in the label).
 *
 * Each run prints how long after the start every station had its band (the issue asks "within a
 * minute": the figure is in the log and the closing note; the test itself waits on the condition).
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { ManagedProcess, makeTempDir, removeDir } from '@cnx/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuild, repoRoot } from './dashboard.stack';

const CANAL_STATIONS = 5;

/** `n` consecutive free loopback ports (the canal simulator listens on base, base + 1, ...). */
async function freeRun(n: number): Promise<number> {
  const bind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await bind(base + i);
    if (ok) return base;
  }
}

interface Started {
  proc: ManagedProcess;
  dir: string;
  dashboardUrl: string;
  apiUrl: string;
  startedAt: number;
}

async function npmStart(extraEnv: Record<string, string>): Promise<Started> {
  const dir = await makeTempDir('cnx-first-run-');
  // Ten consecutive ports: broker, gateway, API, alerts, dashboard, then the canal stations.
  const base = await freeRun(5 + CANAL_STATIONS);
  const [mqtt, gateway, api, alerts, dashboard] = [0, 1, 2, 3, 4].map((i) => base + i) as number[];
  const startedAt = Date.now();
  const proc = ManagedProcess.spawn({
    name: 'npm-start',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')],
    cwd: repoRoot,
    tailLines: 400,
    env: {
      ...process.env,
      CNX_DATA_DIR: dir,
      CNX_MQTT_PORT: String(mqtt),
      GATEWAY_HTTP_PORT: String(gateway),
      API_PORT: String(api),
      ALERTS_HTTP_PORT: String(alerts),
      DASHBOARD_PORT: String(dashboard),
      CNX_CANAL_SIM_PORT: String(base + 5),
      LOG_LEVEL: 'warn',
      // A busy test machine lags without the API being at fault (apps/api test/pressure.test.ts).
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      ...extraEnv,
    },
  });
  // The banner is printed once every app has been started.
  await proc.waitUntilReady(async () => proc.output().includes('cnx-sense is running'), {
    timeoutMs: 240_000,
    intervalMs: 250,
    what: 'the npm start banner',
  });
  return {
    proc,
    dir,
    dashboardUrl: `http://127.0.0.1:${dashboard}`,
    apiUrl: `http://127.0.0.1:${api}`,
    startedAt,
  };
}

/** Waits (polling the page) until every air marker shows a band; returns the markers' attributes. */
async function everyStationBanded(page: Page) {
  await page.waitForFunction(
    () => {
      const air = Array.from(document.querySelectorAll('[data-testid="marker"][data-kind="air"]'));
      return air.length > 0 && air.every((m) => m.getAttribute('data-band') !== 'none');
    },
    undefined,
    { polling: 500, timeout: 0 },
  );
  return page.$$eval('[data-testid="marker"][data-kind="air"]', (els) =>
    els.map((e) => ({
      station: e.getAttribute('data-station') ?? '',
      band: e.getAttribute('data-band') ?? '',
      basis: e.getAttribute('data-basis') ?? '',
      official: e.getAttribute('data-official') ?? '',
      label: e.getAttribute('aria-label') ?? '',
    })),
  );
}

let browser: Browser;
beforeAll(async () => {
  ensureDashboardBuild();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 300_000);
afterAll(async () => {
  await browser?.close();
});

async function openPage(url: string, lang: 'th' | 'en'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: 'lang', value: lang, url }]);
  const page = await context.newPage();
  // The banner comes once every app was started, not once each listens: the dashboard may refuse a
  // connection for a moment, or answer 503 while the API warms up. Retry until the page renders
  // (the test's own timeout bounds it).
  for (;;) {
    const res = await page.goto(url, { waitUntil: 'load' }).catch(() => null);
    if (res?.ok()) return page;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One `npm start` for a describe block: started before its tests, stopped and removed after. */
function npmStartFor(env: Record<string, string>): { get(): Started } {
  let run: Started | undefined;
  beforeAll(async () => {
    run = await npmStart(env);
  }, 300_000);
  afterAll(async () => {
    await run?.proc.stop(30_000);
    if (run) await removeDir(run.dir);
  });
  return { get: () => run! };
}

/** The overview in `lang` once every air station has a band, and how long after the start that was. */
async function bandedOverview(run: Started, lang: 'th' | 'en') {
  const page = await openPage(`${run.dashboardUrl}/`, lang);
  const markers = await everyStationBanded(page);
  const seconds = (Date.now() - run.startedAt) / 1000;
  expect(markers.length).toBe(22);
  return { page, markers, seconds };
}

describe('npm start on a fresh machine: the first screen looks like a city', () => {
  const started = npmStartFor({});

  it('every station has its official band, legend and advice in Thai and English', async () => {
    const run = started.get();
    const seconds: Record<string, number> = {};
    for (const lang of ['th', 'en'] as const) {
      const { page, markers, seconds: s } = await bandedOverview(run, lang);
      seconds[lang] = s;
      // The backfilled week makes the 24-hour means valid: official bands (solid), never the US AQI.
      for (const m of markers) {
        expect(m, m.station).toMatchObject({ official: 'true', basis: 'rolling24h' });
        expect(m.label).toContain(lang === 'th' ? 'ค่าทางการ' : 'official');
      }
      // The legend: five Thai bands, each with its colour and ranges, and the solid/dashed cue.
      const legend = await page.$$eval('[data-testid="map-legend"] tbody tr', (rows) =>
        rows.map((r) => ({ color: r.getAttribute('data-color'), text: r.textContent?.replace(/\s+/g, ' ').trim() })),
      );
      expect(legend.map((r) => r.color)).toEqual(['#3BCCFF', '#92D050', '#FFFF00', '#FFA200', '#F04646']);
      expect(legend[0]!.text).toContain('0–25');
      expect(legend[4]!.text).toContain('≥ 75.1');
      expect(await page.textContent('[data-testid="map-legend"]')).toContain(lang === 'th' ? 'ขอบประ' : 'Dashed');
      // A station page: the 24-hour value, advice, and what the advice is based on.
      const station = markers[0]!.station;
      await page.goto(`${run.dashboardUrl}/station/${station}`, { waitUntil: 'load' });
      expect(await page.textContent('[data-testid="rolling24h"] .value')).toMatch(/\d/);
      expect((await page.textContent('[data-testid="advice-general"]'))?.length).toBeGreaterThan(10);
      expect(await page.textContent('[data-testid="advice-basis"]')).toContain(
        lang === 'th' ? 'ค่าทางการ' : 'official 24-hour mean',
      );
      await page.context().close();
    }
    console.log(
      `first run (npm start, 7-day backfill): every station banded ${seconds.th?.toFixed(1)} s (th) / ` +
        `${seconds.en?.toFixed(1)} s (en) after the start`,
    );
  }, 300_000);
});

describe('npm start with the backfill off: "now" bands, labelled not official', () => {
  const started = npmStartFor({ CNX_BACKFILL_DAYS: '0' });

  it('every station gets the Thai "now" band as soon as it has reported, in Thai and English', async () => {
    const run = started.get();
    const seconds: Record<string, number> = {};
    for (const lang of ['th', 'en'] as const) {
      const { page, markers, seconds: s } = await bandedOverview(run, lang);
      seconds[lang] = s;
      for (const m of markers) {
        expect(m, m.station).toMatchObject({ official: 'false' });
        expect(['hour1', 'nowcast']).toContain(m.basis);
        expect(m.label).toContain(lang === 'th' ? 'ยังไม่ใช่ค่าทางการ' : 'not yet official');
      }
      // The list badges say the same, and advice follows the "now" band.
      const badges = await page.$$eval('[data-testid="station-list"] [data-testid="aqi-badge"]', (els) =>
        els.map((e) => e.getAttribute('data-official')),
      );
      expect(badges.length).toBe(22);
      expect(badges.every((b) => b === 'false')).toBe(true);
      await page.goto(`${run.dashboardUrl}/station/${markers[0]!.station}`, { waitUntil: 'load' });
      expect((await page.textContent('[data-testid="advice-general"]'))?.length).toBeGreaterThan(10);
      expect(await page.getAttribute('[data-testid="aqi-now"] [data-testid="aqi-badge"]', 'data-official')).toBe(
        'false',
      );
      expect(await page.textContent('[data-testid="official-not-yet"]')).toMatch(/\d+/);
      expect(await page.textContent('[data-testid="advice-basis"]')).toContain(
        lang === 'th' ? 'ยังไม่มีค่าทางการ' : 'no official value yet',
      );
      await page.context().close();
    }
    console.log(
      `first run without backfill: every station had a "now" band ${seconds.th?.toFixed(1)} s (th) / ` +
        `${seconds.en?.toFixed(1)} s (en) after the start`,
    );
  }, 300_000);
});
