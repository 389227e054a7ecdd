/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * Browser measurements of the dashboard shared by the e2e suite (dashboard.e2e.test.ts, which asserts
 * them) and the bench (bench/src/dashboard.bench.ts, which reports them):
 *
 * - cumulative layout shift of a page load *including live data arriving*: a PerformanceObserver for
 *   `layout-shift` (buffered) installed before any page script, summed over the whole visit (every
 *   shift without recent input, not only the worst session window: stricter than the Web Vitals CLS);
 * - an axe-core audit of the rendered page (violations by impact).
 */
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
/** axe-core's browser build, injected into the page under test. */
export const AXE_PATH: string = require.resolve('axe-core/axe.min.js');

/** Runs in the page before its own scripts: sums every layout shift into window.__cls. */
const CLS_INIT = `(() => {
  const cls = { value: 0, entries: [] };
  window.__cls = cls;
  const describe = (n) => {
    if (!n || n.nodeType !== 1) return String(n && n.nodeName);
    const id = n.id ? '#' + n.id : '';
    const tid = n.getAttribute('data-testid') ? '[data-testid=' + n.getAttribute('data-testid') + ']' : '';
    const cl = typeof n.className === 'string' && n.className ? '.' + n.className.trim().split(/\\s+/).join('.') : '';
    return n.nodeName.toLowerCase() + id + tid + cl;
  };
  const r = (x) => x && [Math.round(x.x), Math.round(x.y), Math.round(x.width), Math.round(x.height)].join(',');
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        cls.value += e.value;
        cls.entries.push({
          value: e.value,
          at: Math.round(e.startTime),
          sources: (e.sources || []).map((s) => describe(s.node) + ' ' + r(s.previousRect) + ' -> ' + r(s.currentRect)),
        });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch (err) {
    cls.error = String(err);
  }
})();`;

export interface ClsResult {
  value: number;
  entries: { value: number; at: number; sources: string[] }[];
  error?: string;
}

/** Call on a fresh context before opening the page: every page of the context measures its shifts. */
export async function measureLayoutShifts(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: CLS_INIT });
}

export async function readCls(page: Page): Promise<ClsResult> {
  const cls = await page.evaluate(() => (window as unknown as { __cls?: ClsResult }).__cls);
  if (!cls) throw new Error('layout-shift observer not installed (measureLayoutShifts before goto)');
  if (cls.error) throw new Error(`layout-shift observer failed: ${cls.error}`);
  return cls;
}

export const formatShifts = (cls: ClsResult): string =>
  cls.entries.map((e) => `  ${e.value.toFixed(4)} at ${e.at} ms: ${e.sources.join('; ') || '(no sources)'}`).join('\n');

/** Publishes one air reading for a device (as the device would), acknowledged by the broker. */
export async function publishAirReading(
  brokerUrl: string,
  city: string,
  deviceId: string,
  ts: number,
  pm25 = 42.4,
): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `${deviceId}-measure-${ts}` });
  try {
    await client.publishAsync(
      `cnx/v1/${city}/devices/${deviceId}/telemetry`,
      // PM only: a temperature or humidity far from the device's own recent values would be a QC
      // `spike`, and a flagged reading is never shown as the live value (docs/qc.md).
      JSON.stringify({ ts, values: { pm1: 20, pm25, pm10: 50 } }),
      { qos: 1 },
    );
  } finally {
    await client.endAsync();
  }
}

/**
 * Lets a freshly loaded page live through the arrival of data: waits until its live stream is
 * connected, calls `deliver` (which makes readings arrive), and then waits for the dashboard's
 * throttled refresh of its server data (`invalidate('cnx:now')`, a `__data.json` request at most
 * every 5 s) to have been answered and rendered. Returns the number of refreshes seen. Pages whose
 * data does not follow the stream (`refreshes: false`, the open-data page) wait one period instead.
 */
export async function settleWithLiveData(
  page: Page,
  deliver: () => Promise<void>,
  opts: { refreshTimeoutMs?: number; refreshes?: boolean } = {},
): Promise<number> {
  let refreshes = 0;
  const onResponse = (res: { url(): string }) => {
    if (res.url().includes('__data.json')) refreshes++;
  };
  page.on('response', onResponse);
  try {
    await page.locator('[data-testid="live-status"][data-connected="true"]').waitFor({ timeout: 15_000 });
    await deliver();
    if (opts.refreshes === false) {
      // A page with no live data (its loads do not depend on 'cnx:now'): the stream still runs; wait
      // out one refresh period and check that nothing was reloaded.
      await page.waitForTimeout(6_000);
      if (refreshes !== 0) throw new Error(`a page without live data refreshed ${refreshes} times`);
      return 0;
    }
    const deadline = Date.now() + (opts.refreshTimeoutMs ?? 15_000);
    while (refreshes === 0 && Date.now() < deadline) await page.waitForTimeout(100);
    if (refreshes === 0) throw new Error('the page did not refresh its data after live readings arrived');
    // Let the refreshed data render (two animation frames and a little slack).
    await page.evaluate(
      () => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 300)))),
    );
    return refreshes;
  } finally {
    page.off('response', onResponse);
  }
}

/**
 * The "live data arrives" step of a page visit, shared by the e2e audit and bench:dashboard: the
 * station page's chart is drawn first; then an air reading is published for the station on screen
 * (the old city's on its station page, CMU's elsewhere; the canal probes are polled every second
 * anyway) and the page's throttled refresh is awaited (settleWithLiveData; the open-data page does
 * not follow the stream). Returns the refreshes seen.
 */
export async function settleVisit(
  page: Page,
  pageName: string,
  stack: { brokerUrl: string; city: string; deviceOf: (station: string) => string },
): Promise<number> {
  if (pageName === 'station') await page.locator('[data-testid="trend-chart"][data-ready="true"]').waitFor();
  const station = pageName === 'station' ? 'cm-air-oldcity-01' : 'cm-air-cmu-01';
  return settleWithLiveData(
    page,
    () => publishAirReading(stack.brokerUrl, stack.city, stack.deviceOf(station), Date.now(), 33.3),
    { refreshes: pageName !== 'data' },
  );
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string[]; html: string; failureSummary: string }[];
}

/** Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page; returns every violation. */
export async function axeAudit(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: Document, o: object): Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  });
}

export const formatViolations = (where: string, vs: readonly AxeViolation[]): string =>
  vs
    .map(
      (v) =>
        `${where}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 8)
          .map(
            (n) =>
              `    ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${n.failureSummary.replace(/\n/g, '\n      ')}`,
          )
          .join('\n') +
        (v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more` : ''),
    )
    .join('\n');
