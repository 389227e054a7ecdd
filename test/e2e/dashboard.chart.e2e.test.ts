/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * The station trend's time axis, reference lines and gaps in real headless Chromium over the whole
 * stack (Mosquitto, gateway, API, the built dashboard; dashboard.stack.ts). Issue 11, item 6.
 *
 * What the browser checks, and how (uPlot draws on a canvas, so nothing here reads the DOM for them):
 * - Tick labels: the text uPlot really draws. `CanvasRenderingContext2D.prototype.fillText` is wrapped
 *   before the page's own scripts run and records every text drawn; the x-axis labels are the drawn
 *   texts that are not y-axis numbers or the unit. (Each line of a two-line label is one fillText.)
 * - Reference lines: canvas pixels. Along the row of the canvas with the most pixels in the Thai
 *   standard's colour (and the WHO guideline's), the coloured pixels must reach both ends of the plot
 *   area (uPlot's `.u-over` element is laid over exactly the plot area).
 * - Gaps: canvas pixels. No pixel of the raw line's (or the QC-flagged markers') colour in the middle
 *   of a 9-month hole of the 1-year view; some at both ends of it.
 * The label functions themselves are unit-tested in apps/dashboard/src/lib/timeaxis.test.ts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@cnx/api-client';
import mqtt from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY, type DashboardStack, ensureDashboardBuild, repoRoot, startDashboardStack } from './dashboard.stack';

const SHOTS = path.join(repoRoot, 'test-results/screenshots');

/** One reading in the last minutes, nothing else: the 24-hour and 1-year views hold one bucket. */
const ONE_POINT = 'cm-air-wualai-01';
/** Three days of hourly readings from 330 days ago and the last day's: a 9-month hole in the 1-year view. */
const GAPPED = 'cm-air-padaet-01';
/** The colours of apps/dashboard/src/lib/chart.ts (CHART_COLORS). */
const THAI_LINE = [0xc2, 0x41, 0x0c] as const;
const WHO_LINE = [0x15, 0x80, 0x3d] as const;
const RAW_LINE = [0x6b, 0x72, 0x80] as const;
const FLAGGED = [0xb3, 0x26, 0x1e] as const;
const THAI_MONTHS = ['ม.ค.', 'ก.พ.', 'มี.ค.', 'เม.ย.', 'พ.ค.', 'มิ.ย.', 'ก.ค.', 'ส.ค.', 'ก.ย.', 'ต.ค.', 'พ.ย.', 'ธ.ค.'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Installed before any page script: records each text drawn on a canvas, with where it was drawn (in
 * canvas pixels, the context's transform applied), in window.__drawnText.
 */
const RECORD_TEXT = `(() => {
  const drawn = [];
  window.__drawnText = drawn;
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    const p = this.getTransform().transformPoint(new DOMPoint(x, y));
    drawn.push({ text: String(text), x: p.x, y: p.y });
    return fillText.call(this, text, x, y, ...rest);
  };
})();`;

describe('station trend chart in a real browser: time axis, reference lines, gaps', () => {
  let stack: DashboardStack;
  let browser: Browser;
  let api: ReturnType<typeof createClient>;

  async function publish(stationId: string, readings: { ts: number; pm25: number }[]): Promise<void> {
    const device = stack.devices.find((d) => d.stationId === stationId);
    if (!device) throw new Error(`no device at ${stationId}`);
    const client = await mqtt.connectAsync(stack.broker.url, { clientId: `${device.id}-chart-e2e` });
    for (const r of readings) {
      const values = { pm1: r.pm25 * 0.7, pm25: r.pm25, pm10: r.pm25 * 1.4, temperature: 28, humidity: 55 };
      await client.publishAsync(`cnx/v1/${CITY}/devices/${device.id}/telemetry`, JSON.stringify({ ts: r.ts, values }), {
        qos: 1,
      });
    }
    await client.endAsync();
    await stack.gateway.drained();
  }

  /** Waits until the API's raw hourly series of the last year holds `buckets` buckets. */
  async function untilStored(stationId: string, buckets: number): Promise<void> {
    // Polled until stored; the test's own timeout bounds the wait.
    let seen = -1;
    for (;;) {
      const s = await api.getStationSeries(stationId, {
        metric: 'pm25',
        interval: '1h',
        from: new Date(Date.now() - 365 * DAY),
        to: new Date(Date.now() + HOUR),
        qc: 'include',
      });
      seen = s.meta.count;
      if (seen === buckets) return;
      if (seen > buckets) throw new Error(`${stationId}: ${seen} hourly buckets stored, expected ${buckets}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A picture of the chart for the reader of the test's output (test-results/screenshots). */
  const shoot = (page: Page, name: string) =>
    page.locator('[data-testid="trend-chart"]').screenshot({ path: path.join(SHOTS, `chart-${name}.png`) });

  async function openChart(url: string, lang: 'th' | 'en'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'lang', value: lang, url: stack.dashboardUrl }]);
    await context.addInitScript({ content: RECORD_TEXT });
    const page = await context.newPage();
    await page.goto(`${stack.dashboardUrl}${url}`, { waitUntil: 'load' });
    await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 }); // interactive
    await page.locator('[data-testid="trend-chart"][data-ready="true"]').waitFor({ timeout: 15_000 });
    // The first paint of uPlot may come a frame after its constructor.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    return page;
  }

  /** The x-axis labels uPlot drew: the distinct texts drawn below the plot area, left to right. */
  const xLabels = (page: Page): Promise<string[]> =>
    page.evaluate(() => {
      const root = document.querySelector('[data-testid="trend-chart"]')!;
      const canvas = root.querySelector('canvas')!;
      const over = root.querySelector('.u-over') as HTMLElement;
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const bottom = (over.offsetTop + over.offsetHeight) * scale;
      const drawn = (window as unknown as { __drawnText: { text: string; x: number; y: number }[] }).__drawnText;
      const below = drawn.filter((d) => d.y > bottom).sort((a, b) => a.x - b.x || a.y - b.y);
      return [...new Set(below.map((d) => d.text))];
    });

  /**
   * The canvas row with the most pixels near `rgb`, and how far they reach across the plot area
   * (fractions of its width, 0 = left edge, 1 = right edge). Pixels are read unpremultiplied.
   */
  const lineExtent = (page: Page, rgb: readonly number[]) =>
    page.evaluate((rgb) => {
      const root = document.querySelector('[data-testid="trend-chart"]')!;
      const canvas = root.querySelector('canvas')!;
      const over = root.querySelector('.u-over') as HTMLElement;
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const left = Math.round(over.offsetLeft * scale);
      const width = Math.round(over.offsetWidth * scale);
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      const near = (i: number) =>
        data[i + 3]! > 80 &&
        Math.abs(data[i]! - rgb[0]!) < 40 &&
        Math.abs(data[i + 1]! - rgb[1]!) < 40 &&
        Math.abs(data[i + 2]! - rgb[2]!) < 40;
      let best = { row: -1, count: 0, from: 1, to: 0 };
      for (let y = 0; y < canvas.height; y++) {
        let count = 0;
        let first = -1;
        let last = -1;
        for (let x = left; x < left + width; x++) {
          if (!near((y * canvas.width + x) * 4)) continue;
          count++;
          if (first < 0) first = x;
          last = x;
        }
        if (count > best.count) best = { row: y, count, from: (first - left) / width, to: (last - left) / width };
      }
      return best;
    }, rgb);

  /**
   * Pixels within `tol` of `rgb` (each channel) in the columns between fractions `a` and `b` of the
   * plot area's width.
   */
  const pixelsBetween = (page: Page, rgb: readonly number[], a: number, b: number, tol: number) =>
    page.evaluate(
      ({ rgb, a, b, tol }) => {
        const root = document.querySelector('[data-testid="trend-chart"]')!;
        const canvas = root.querySelector('canvas')!;
        const over = root.querySelector('.u-over') as HTMLElement;
        const scale = canvas.width / canvas.getBoundingClientRect().width;
        const left = Math.round(over.offsetLeft * scale);
        const top = Math.round(over.offsetTop * scale);
        const width = Math.round(over.offsetWidth * scale);
        const height = Math.round(over.offsetHeight * scale);
        const x0 = left + Math.round(a * width);
        const { data } = canvas.getContext('2d')!.getImageData(x0, top, Math.round((b - a) * width), height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4)
          if (
            data[i + 3]! > 80 &&
            Math.abs(data[i]! - rgb[0]!) <= tol &&
            Math.abs(data[i + 1]! - rgb[1]!) <= tol &&
            Math.abs(data[i + 2]! - rgb[2]!) <= tol
          )
            n++;
        return n;
      },
      { rgb, a, b, tol },
    );

  beforeAll(async () => {
    ensureDashboardBuild();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startDashboardStack();
    api = createClient({ baseUrl: stack.apiUrl });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const now = Date.now();
    await publish(ONE_POINT, [{ ts: now - 60_000, pm25: 22 }]);
    // Old readings arrive late on the telemetry topic (the gateway flags them `stale`): the raw series
    // (QC flags included) holds them, which is the line whose gap is checked.
    // One reading in each hour: as many hourly buckets as readings.
    const hourly = (start: number, hours: number) =>
      Array.from({ length: hours }, (_, i) => ({ ts: start + i * HOUR + 5 * 60_000, pm25: 20 + (i % 5) }));
    const gapped = [
      ...hourly(Math.floor((now - 330 * DAY) / HOUR) * HOUR, 72),
      ...hourly(Math.floor((now - 23 * HOUR) / HOUR) * HOUR, 24).filter((r) => r.ts <= now),
    ];
    await publish(GAPPED, gapped);
    await untilStored(ONE_POINT, 1);
    await untilStored(GAPPED, gapped.length);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const thisBuddhistYear = () => String(new Date(Date.now() + 7 * HOUR).getUTCFullYear() + 543);
  const thisGregorianYear = () => String(new Date(Date.now() + 7 * HOUR).getUTCFullYear());

  it('24 hours, one bucket, Thai: 24-hour clock times over the requested day, Buddhist-era year, no am/pm', async () => {
    const page = await openChart(`/station/${ONE_POINT}?range=24h`, 'th');
    const labels = await xLabels(page);
    console.log(`24 h, Thai, one bucket: x labels drawn ${JSON.stringify(labels)}`);
    await shoot(page, '24h-th-one-bucket');
    // The chart's own account agrees: the labels it computed are the ones drawn, and its x range is the
    // day asked of the API (first to last 5-minute bucket), not uPlot's default around one point.
    const chart = page.locator('[data-testid="trend-chart"]');
    const exposed = JSON.parse((await chart.getAttribute('data-x-ticks')) ?? '[]') as string[];
    expect(exposed.flatMap((l) => l.split('\n'))).toEqual(labels);
    const [x0, x1] = ((await chart.getAttribute('data-x-range')) ?? '').split(',').map(Number);
    const spanFrom = Number(await chart.getAttribute('data-span-from'));
    const spanTo = Number(await chart.getAttribute('data-span-to'));
    expect(spanTo - spanFrom).toBe(24 * 3600);
    expect([x0, x1]).toEqual([spanFrom, spanTo - 300]);
    expect(labels.length).toBeGreaterThan(3);
    expect(labels.filter((l) => /^([01]\d|2[0-3]):[0-5]\d$/.test(l)).length).toBeGreaterThan(3);
    expect(labels.join(' ')).toContain(thisBuddhistYear());
    expect(labels.join(' ')).not.toContain(thisGregorianYear());
    expect(labels.join(' ')).not.toMatch(/am|pm/i);
    expect(labels.some((l) => THAI_MONTHS.some((m) => l.includes(m)))).toBe(true);
    // No year other than this one (or last, around New Year): the x range is the day asked for.
    for (const y of labels.join(' ').match(/\d{4}/g) ?? [])
      expect([thisBuddhistYear(), String(Number(thisBuddhistYear()) - 1)]).toContain(y);
    // The legend names the time column in Thai.
    const legend = (await page.textContent('[data-testid="trend-chart"] .u-legend')) ?? '';
    expect(legend).not.toContain('Time');
    expect(legend).toContain('เวลา');
    await page.context().close();
  });

  it('24 hours, a day of hourly buckets, Thai: 24-hour clock, Thai date with Buddhist-era year, no am/pm', async () => {
    const page = await openChart(`/station/${GAPPED}?range=24h`, 'th');
    const labels = await xLabels(page);
    console.log(`24 h, Thai, a day of buckets: x labels drawn ${JSON.stringify(labels)}`);
    await shoot(page, '24h-th-day');
    expect(labels.filter((l) => /^([01]\d|2[0-3]):[0-5]\d$/.test(l)).length).toBeGreaterThan(3);
    expect(labels.join(' ')).toContain(thisBuddhistYear());
    expect(labels.join(' ')).not.toContain(thisGregorianYear());
    expect(labels.join(' ')).not.toMatch(/am|pm|\//i);
    await page.context().close();
  });

  it('24 hours, one bucket: the Thai standard and WHO guideline lines span the whole plot', async () => {
    const page = await openChart(`/station/${ONE_POINT}?range=24h`, 'th');
    for (const [name, rgb] of [
      ['Thai standard', THAI_LINE],
      ['WHO guideline', WHO_LINE],
    ] as const) {
      const line = await lineExtent(page, rgb);
      console.log(`24 h, one bucket, ${name}: row ${line.row}, ${line.count} px from ${line.from} to ${line.to}`);
      expect(line.count, name).toBeGreaterThan(100);
      expect(line.from, name).toBeLessThan(0.02);
      expect(line.to, name).toBeGreaterThan(0.98);
    }
    await page.context().close();
  });

  it('1 year, Thai: Thai month abbreviations and Buddhist-era years; the reference lines span the plot', async () => {
    const page = await openChart(`/station/${ONE_POINT}?range=1y`, 'th');
    const labels = await xLabels(page);
    console.log(`1 y, Thai, one bucket: x labels drawn ${JSON.stringify(labels)}`);
    await shoot(page, '1y-th-one-bucket');
    const months = labels.filter((l) => THAI_MONTHS.includes(l));
    expect(months.length).toBeGreaterThan(5);
    expect(labels).toContain(thisBuddhistYear());
    expect(labels.join(' ')).not.toContain(thisGregorianYear());
    expect(labels.join(' ')).not.toMatch(/am|pm|[A-Z][a-z]{2}/);
    for (const rgb of [THAI_LINE, WHO_LINE]) {
      const line = await lineExtent(page, rgb);
      expect(line.from).toBeLessThan(0.02);
      expect(line.to).toBeGreaterThan(0.98);
    }
    await page.context().close();
  });

  it('1 year with a 9-month hole: the raw line is broken across the hole, the data drawn at both ends', async () => {
    const page = await openChart(`/station/${GAPPED}?range=1y`, 'th');
    await shoot(page, '1y-th-hole');
    // The hole runs from 327 days ago to a day ago: from 10 % to 99.7 % of the year's width. Every
    // bucket here holds readings flagged `stale` (sent late on the telemetry topic), so the raw line
    // is mostly covered by the QC-flagged markers: the ends are found by either colour.
    // The markers' red is near the Thai standard's orange (which crosses the whole plot): matched
    // closely. Only the raw line could cross the hole (the markers have no line).
    const drawn = async (a: number, b: number) =>
      (await pixelsBetween(page, RAW_LINE, a, b, 30)) + (await pixelsBetween(page, FLAGGED, a, b, 8));
    const inHole = await pixelsBetween(page, RAW_LINE, 0.3, 0.8, 30);
    const thaiInHole = await pixelsBetween(page, THAI_LINE, 0.3, 0.8, 8);
    const atOld = await drawn(0.08, 0.12);
    const atNow = await drawn(0.97, 1);
    console.log(
      `1 y with a hole: raw line or flagged marker pixels ${atOld} at the old readings, ${atNow} now; raw line ${inHole} in the hole (Thai standard ${thaiInHole})`,
    );
    expect(thaiInHole).toBeGreaterThan(0); // the pixel reading sees lines in the hole
    expect(await pixelsBetween(page, FLAGGED, 0.3, 0.8, 8)).toBe(0); // and tells red from orange
    expect(inHole).toBe(0);
    expect(atOld).toBeGreaterThan(0);
    expect(atNow).toBeGreaterThan(0);
    await page.context().close();
  });

  it('English: en-GB 24-hour times and Gregorian years, no am/pm', async () => {
    const page = await openChart(`/station/${ONE_POINT}?range=24h`, 'en');
    const labels = await xLabels(page);
    console.log(`24 h, English, one bucket: x labels drawn ${JSON.stringify(labels)}`);
    expect(labels.filter((l) => /^([01]\d|2[0-3]):[0-5]\d$/.test(l)).length).toBeGreaterThan(3);
    expect(labels.join(' ')).toContain(thisGregorianYear());
    expect(labels.join(' ')).not.toMatch(/am|pm/i);
    await page.context().close();
    const year = await openChart(`/station/${ONE_POINT}?range=1y`, 'en');
    const yearLabels = await xLabels(year);
    console.log(`1 y, English: x labels drawn ${JSON.stringify(yearLabels)}`);
    expect(yearLabels.filter((l) => /^[A-Z][a-z]{2}$/.test(l)).length).toBeGreaterThan(5);
    await year.context().close();
  });
});
