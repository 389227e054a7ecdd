/** The servers of the API bench (api.bench.ts), each its own process: the API or hello bundle, the built dashboard. */
import { join } from 'node:path';
import { freePort, ManagedProcess } from '@cnx/testkit';
import { REPO_ROOT } from './api-config';
import { CITY } from './api-seed';

export interface Server {
  name: string;
  proc: ManagedProcess;
  port: number;
}

export async function startServer(
  name: string,
  bundleFile: string,
  env: Record<string, string>,
  probe: string,
): Promise<Server> {
  const port = await freePort();
  const proc = ManagedProcess.spawn({
    name,
    command: process.execPath,
    // BENCH_SUT_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" profiles the servers (as bench:ingest).
    args: [...(process.env.BENCH_SUT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), bundleFile],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', API_PORT: String(port), ...env },
  });
  await proc.waitUntilReady(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}${probe}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 30_000, what: `GET ${probe} to answer 200` },
  );
  return { name, proc, port };
}

/** The built dashboard (`node apps/dashboard/build`, as deployed) in front of the API on `apiPort`. */
export async function startDashboard(name: string, apiPort: number, renderCacheS: number): Promise<Server> {
  const port = await freePort();
  const proc = ManagedProcess.spawn({
    name,
    command: process.execPath,
    args: [join(REPO_ROOT, 'apps/dashboard/build/index.js')],
    cwd: join(REPO_ROOT, 'apps/dashboard'),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DASHBOARD_API_URL: `http://127.0.0.1:${apiPort}`,
      DASHBOARD_RENDER_CACHE_S: String(renderCacheS),
      CNX_CITY: CITY,
      CNX_CITIES_DIR: join(REPO_ROOT, 'cities'),
    },
  });
  await proc.waitUntilReady(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 60_000, what: 'the dashboard overview to answer 200' },
  );
  return { name, proc, port };
}
