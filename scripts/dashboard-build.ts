/**
 * Whether the dashboard's production build (apps/dashboard/build) is missing or older than any of
 * its sources: `npm start` and the browser tests rebuild it then, so neither serves yesterday's page.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function dashboardBuildStale(root: string): boolean {
  const dir = path.join(root, 'apps/dashboard');
  const built = path.join(dir, 'build/handler.js');
  if (!existsSync(built)) return true;
  const newest = (p: string): number => {
    if (!existsSync(p)) return 0;
    const st = statSync(p);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
  };
  const sources = ['src', 'static', 'package.json', 'svelte.config.js', 'vite.config.ts'].map((f) => path.join(dir, f));
  const srcTime = Math.max(...sources.map(newest), newest(path.join(root, 'packages/api-client/src')));
  return statSync(built).mtimeMs < srcTime;
}
