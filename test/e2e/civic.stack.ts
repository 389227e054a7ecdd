/**
 * The browser side of the civic e2e files (dashboard.alerts, dashboard.reports): the whole stack of
 * dashboard.stack.ts with the alerts service, Chromium (/usr/bin/chromium), one browser context per
 * opened page (a language cookie and a fake geolocation when asked), script errors failing the test that
 * raised them, and axe-core checks. `useCivicBrowser` registers its own vitest hooks: call it inside the
 * describe.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { axeAudit, formatViolations } from './dashboard.measure';
import { type DashboardStack, ensureDashboardBuild, repoRoot, startDashboardStack } from './dashboard.stack';

/** Where the civic e2e files leave their screenshots. */
export const SHOTS = path.join(repoRoot, 'test-results/screenshots');

export interface OpenOptions {
  /** The `lang` cookie of the context (the dashboard's language). */
  lang?: 'th' | 'en';
  /** A fake position, with the geolocation permission granted. */
  geolocation?: { latitude: number; longitude: number };
}

export interface CivicBrowser {
  /** The running stack (set once beforeAll has run). */
  readonly stack: DashboardStack;
  /** A dashboard page (`url` is the path) in a fresh browser context, loaded. */
  open(url: string, opts?: OpenOptions): Promise<Page>;
  /** axe-core: no serious or critical violation (as the other pages, dashboard.e2e.test.ts). */
  expectAccessible(page: Page, where: string): Promise<void>;
}

export function useCivicBrowser(setup: {
  /** The alerts service's extra settings; `dir` is a temporary folder removed after the file. */
  alerts: (dir: string) => Promise<Record<string, string>>;
  /** Run after the stack has stopped (servers the file started for it). */
  cleanup?: () => Promise<void>;
}): CivicBrowser {
  let stack: DashboardStack | undefined;
  let browser: Browser | undefined;
  let dir: string | undefined;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    ensureDashboardBuild();
    dir = await makeTempDir('cnx-e2e-civic-');
    stack = await startDashboardStack({ alerts: await setup.alerts(dir) });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 300_000);

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    const seen = errors.splice(0);
    expect(seen, `script errors:\n${seen.join('\n')}`).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await setup.cleanup?.();
    if (dir) await removeDir(dir);
  });

  const started = (): DashboardStack => {
    if (!stack) throw new Error('the civic stack is not started (useCivicBrowser runs in beforeAll)');
    return stack;
  };

  return {
    get stack() {
      return started();
    },
    async open(url, opts = {}) {
      const context = await browser!.newContext({
        viewport: { width: 1280, height: 900 },
        ...(opts.geolocation ? { geolocation: opts.geolocation, permissions: ['geolocation'] } : {}),
      });
      contexts.push(context);
      if (opts.lang) await context.addCookies([{ name: 'lang', value: opts.lang, url: started().dashboardUrl }]);
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`${url}: ${e.message}`));
      await page.goto(`${started().dashboardUrl}${url}`, { waitUntil: 'load' });
      // Hydrated (the root layout's onMount): forms and buttons answer; on a busy machine the load
      // event can come well before.
      await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 });
      return page;
    },
    async expectAccessible(page, where) {
      const bad = (await axeAudit(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad, formatViolations(where, bad)).toEqual([]);
    },
  };
}
