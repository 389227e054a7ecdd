/**
 * Which InfluxDB the store talks to. Every version serves the v1-compatible API (`/write`,
 * InfluxQL on `/query`), but they differ around it (packages/store/README.md, "InfluxDB 1.x, 2.x
 * and 3"): 1.x has databases, retention policies and users; 2.x has buckets reached through a
 * DBRP mapping and API tokens; 3 has databases (3 Core creates one on first write), tokens and no
 * retention policies. The server names itself on `GET /ping` (`X-Influxdb-Version`, and
 * `X-Influxdb-Build`: `OSS`/`ENT` for 1.x, `OSS` for 2.x, `Core`/`Enterprise` for 3); a server
 * or proxy that does not say must be named in the configuration (`INFLUX_VERSION`).
 */
export const INFLUX_VERSIONS = ['auto', '1', '2', '3'] as const;
export type InfluxVersionSetting = (typeof INFLUX_VERSIONS)[number];
export type InfluxMajor = 1 | 2 | 3;

/** What `GET /ping` said about the server. */
export interface PingIdentity {
  version?: string;
  build?: string;
}

/** The major version named by `X-Influxdb-Version` (`1.6.7`, `v2.7.11`, `3.2.0`), if any. */
export function majorFromPing(ping: PingIdentity): InfluxMajor | undefined {
  const m = /^v?(\d+)\./.exec(ping.version?.trim() ?? '');
  const major = m ? Number(m[1]) : undefined;
  return major === 1 || major === 2 || major === 3 ? major : undefined;
}

export type ResolvedVersion =
  | { ok: true; major: InfluxMajor; from: 'server' | 'configuration' }
  | { ok: false; reason: string };

const said = (p: PingIdentity): string =>
  `X-Influxdb-Version: ${JSON.stringify(p.version ?? null)}, X-Influxdb-Build: ${JSON.stringify(p.build ?? null)}`;

/**
 * The version to speak: the server's when it names one; the configured one when it does not (a
 * proxy, a hosted service). A configured version the server contradicts is an error, and so is
 * `auto` when the server does not say: guessing wrong would send 1.x requests to a 2.x server (or
 * the reverse) and fail later, at the first write, far from the cause.
 */
export function resolveVersion(setting: InfluxVersionSetting, ping: PingIdentity): ResolvedVersion {
  const detected = majorFromPing(ping);
  if (setting === 'auto') {
    if (detected !== undefined) return { ok: true, major: detected, from: 'server' };
    return {
      ok: false,
      reason: `cannot tell the InfluxDB version from GET /ping (${said(ping)}); set INFLUX_VERSION to 1, 2 or 3`,
    };
  }
  const configured = Number(setting) as InfluxMajor;
  if (detected === undefined) return { ok: true, major: configured, from: 'configuration' };
  if (detected === configured) return { ok: true, major: configured, from: 'server' };
  return {
    ok: false,
    reason: `INFLUX_VERSION=${setting} but the server is InfluxDB ${detected} (GET /ping: ${said(ping)}); fix INFLUX_VERSION or INFLUX_URL`,
  };
}

/** The settings that matter per version (a subset of the adapter's options). */
export interface VersionedSettings {
  token?: string;
  username?: string;
  retentionPolicy?: string;
  rollupRetentionPolicy?: string;
}

/**
 * What a version cannot work with, in words naming the environment variables: 1.x has no API
 * tokens; 2.x's v1-compatibility API authenticates every request, here with a token; 3 takes a
 * token (or none, for a server run without authentication) and has no retention policies.
 */
export function settingsProblems(major: InfluxMajor, s: VersionedSettings): string[] {
  const out: string[] = [];
  if (major === 1) {
    if (s.token) out.push('InfluxDB 1.x has no API tokens: unset INFLUX_TOKEN, use INFLUX_USERNAME/INFLUX_PASSWORD');
    return out;
  }
  if (s.username !== undefined) {
    out.push(`InfluxDB ${major} authenticates with INFLUX_TOKEN (Authorization: Token), not INFLUX_USERNAME`);
  }
  if (major === 2 && !s.token) out.push("InfluxDB 2.x's v1-compatibility API needs INFLUX_TOKEN");
  if (major === 3 && s.retentionPolicy) {
    out.push("InfluxDB 3 has no retention policies: unset INFLUX_RP (retention is the database's own)");
  }
  if (major === 3 && s.rollupRetentionPolicy) {
    out.push('InfluxDB 3 has no retention policies: unset INFLUX_ROLLUP_RP');
  }
  return out;
}
