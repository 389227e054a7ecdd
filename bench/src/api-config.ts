/**
 * The API bench's targets and options (api.bench.ts): what each target asks of which server
 * configuration, the command line, and the progress log.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(BENCH_DIR, '..');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const T0 = Date.now();

export const TARGETS = [
  'hello',
  'latest-memory',
  'latest-memory-br',
  'overview',
  'overview-identity',
  'overview-uncached',
  'latest-warm',
  'latest',
  'latest-uncached',
  'series',
  'series-seq',
  'series-year',
  'series-year-br',
  'series-year-uncached',
] as const;
export type Target = (typeof TARGETS)[number];

export const DESCRIPTIONS: Record<Target, string> = {
  hello: 'bare fastify hello-world: GET / -> {"hello":"world"} (no plugins, no logging)',
  'latest-memory':
    'GET /v1/latest from the in-memory "now" view (API_LIVE=true on a Mosquitto; one air reading published every ' +
    '2 s, each invalidating the view; bodies rebuilt at most once per second)',
  'latest-memory-br':
    'the same with Accept-Encoding: gzip, deflate, br (as browsers and fetch send): the body brotli-encoded once per change',
  overview:
    'the dashboard overview GET / from its server (node apps/dashboard/build; render shared 5 s), ' +
    'Accept-Encoding: gzip, deflate, br (as browsers send), over the memory-view API',
  'overview-identity': 'the same without Accept-Encoding: the HTML uncompressed',
  'overview-uncached':
    'the same as overview with DASHBOARD_RENDER_CACHE_S=0: every request renders (two API calls) and compresses',
  'latest-warm':
    'GET /v1/latest, API_CACHE_TTL_S=3600: the cached view never expires during the run (serving cost only)',
  latest: 'GET /v1/latest, API_CACHE_TTL_S=15 (default): includes the recomputation each time the cached view expires',
  'latest-uncached': 'GET /v1/latest, API_CACHE_TTL_S=0: every request recomputes the view from the store',
  series: 'GET /v1/stations/{id}/series?metric=pm25&interval=1h over 30 days (720 buckets), air stations round-robin',
  'series-seq': 'the same series requests one at a time (--slow-connections): service time without queueing',
  'series-year':
    'GET /v1/stations/cm-air-oldcity-01/series?metric=pm25&interval=1h over 365 days (8760 buckets, one station; --year: from rollups)',
  'series-year-br':
    'the same with Accept-Encoding: gzip, deflate, br (as browsers and fetch send): the cached body brotli-encoded once',
  'series-year-uncached': 'the same with API_CACHE_TTL_S=0: every request reads the rollups and serialises 1.7 MB',
};

/** A dashboard target: the built dashboard in front of its group's API, with this render cache and headers. */
export interface DashboardTarget {
  renderCacheS: number;
  headers: Record<string, string>;
}
const BROWSER_HEADERS = { Accept: 'text/html', 'Accept-Encoding': 'gzip, deflate, br' };
export const DASHBOARD_OF: Partial<Record<Target, DashboardTarget>> = {
  overview: { renderCacheS: 5, headers: BROWSER_HEADERS },
  'overview-identity': { renderCacheS: 5, headers: { Accept: 'text/html' } },
  'overview-uncached': { renderCacheS: 0, headers: BROWSER_HEADERS },
};

/** API targets asked as a browser or fetch() asks: compressed answers accepted. */
const API_BROWSER_HEADERS = { Accept: 'application/json', 'Accept-Encoding': 'gzip, deflate, br' };
export const headersOf = (t: Target): Record<string, string> | undefined =>
  DASHBOARD_OF[t]?.headers ?? (t === 'latest-memory-br' || t === 'series-year-br' ? API_BROWSER_HEADERS : undefined);

/** Which API configuration serves which target (one process per configuration). */
export const SERVER_OF: Record<Target, { name: string; cacheTtlS?: number; bus?: boolean }> = {
  hello: { name: 'hello' },
  'latest-memory': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'latest-memory-br': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  overview: { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'overview-identity': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'overview-uncached': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },

  'latest-warm': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  series: { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-seq': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year-br': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year-uncached': { name: 'api (cache 0)', cacheTtlS: 0 },
  latest: { name: 'api (cache 15 s)', cacheTtlS: 15 },
  'latest-uncached': { name: 'api (cache 0)', cacheTtlS: 0 },
};

export interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  /** Wait up to this long before each target for the box to be idle (other work < 0.25 cores). */
  quietWaitS: number;
  /** Connections for latest-uncached and series-seq (requests that cost a lot of server CPU each). */
  slowConnections: number;
  /** Connections for the dashboard overview targets. */
  dashboardConnections: number;
  days: number;
  stepMin: number;
  /** Seed a year as the real system holds it: 90 days of raw readings and a year of rollups. */
  year: boolean;
  targets: Target[];
  out: string;
}

export const HELP = `npm run bench:api -w @cnx/bench -- [options]
  --duration <s>       measured seconds per target (default 15 = the default cache TTL, at most 60)
  --warmup <s>         seconds of load before measuring (default 3)
  --connections <n>    keep-alive connections, closed loop (default 10)
  --slow-connections <n>  connections for latest-uncached and series-seq (default 1)
  --dashboard-connections <n>  connections for the overview targets (default 100)
  --quiet-wait <s>     before each target, wait up to this long for the box to be idle (default 30)
  --days <n>           days of seeded data (default 30, at most 60; the series covers 30)
  --step-min <n>       minutes between two seeded air readings (default 1)
  --year               seed a year for every station as the real system holds it: --days is ignored;
                       90 days of raw readings (rolled up by the store's RollupRunner) and rollups for the year
  --targets <list>     ${TARGETS.join(',')} (default all)
  --out <dir>          results dir (default bench/results)`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      'slow-connections': { type: 'string', default: '1' },
      'dashboard-connections': { type: 'string', default: '100' },
      'quiet-wait': { type: 'string', default: '30' },
      days: { type: 'string', default: '30' },
      'step-min': { type: 'string', default: '1' },
      year: { type: 'boolean', default: false },
      targets: { type: 'string', default: TARGETS.join(',') },
      out: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: a number from ${min} to ${max}`);
    return n;
  };
  const targets = values.targets.split(',').map((t) => t.trim()) as Target[];
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (${TARGETS.join(', ')})`);
  return {
    durationS: num('duration', values.duration, 1, 60),
    warmupS: num('warmup', values.warmup, 0, 30),
    connections: Math.round(num('connections', values.connections, 1, 256)),
    slowConnections: Math.round(num('slow-connections', values['slow-connections'], 1, 256)),
    dashboardConnections: Math.round(num('dashboard-connections', values['dashboard-connections'], 1, 1000)),
    quietWaitS: num('quiet-wait', values['quiet-wait'], 0, 600),
    days: Math.round(num('days', values.days, 1, 60)),
    stepMin: Math.round(num('step-min', values['step-min'], 1, 60)),
    year: values.year,
    targets,
    out: values.out,
  };
}

export function connectionsOf(target: Target, opts: Options): number {
  if (DASHBOARD_OF[target]) return opts.dashboardConnections;
  return target === 'latest-uncached' || target === 'series-seq' ? opts.slowConnections : opts.connections;
}

export function progress(msg: string): void {
  console.error(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
}
