import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DEFAULT_CITY_ID, resolveCityDir } from '@cnx/city-pack';
import { LIVE_MAX_AGE_MS } from '@cnx/domain';
import { EnvReader } from '@cnx/runtime';
import { pushSubscriptionProblem } from './channels/webpush.adapter';

export interface StaffMember {
  id: string;
  name: string;
  /** Bearer credential for the staff API (compared as SHA-256 digests in constant time). */
  token: string;
  /** On-call tier: 0 is told first, 1 after the escalation delay, … */
  tier: number;
  channel: 'email' | 'line' | 'webhook' | 'webpush';
  /** Contact (personal data): email address, LINE user id, URL or push subscription JSON. */
  address: string;
  /** For channel 'webhook'. */
  secret?: string;
}

export interface AlertsConfig {
  city: string;
  dataDir: string;
  dbFile: string;
  rulesFile: string;
  mqttUrl: string;
  mqttClientId: string;
  /** The broker account (production Mosquitto: `cnx-alerts`, infra/mosquitto/acl); unset = anonymous. */
  mqttUsername?: string;
  mqttPassword?: string;
  httpHost: string;
  httpPort: number;
  /**
   * The public API's base URL (apps/api): one-click unsubscribe (RFC 8058 POST) and the webhook
   * confirmation go there; the API forwards to this service.
   */
  publicApiUrl: string;
  /** The dashboard's public URL: the confirm, manage and unsubscribe pages linked from every message. */
  dashboardUrl: string;
  /** Proxies whose X-Forwarded-For names the client (the API forwards citizens' requests): proxy-addr list. */
  trustProxy: string;
  /** Per client (IP): requests per window, and new subscriptions per hour. */
  rateLimit: { max: number; windowMs: number; subscribeMaxPerHour: number; reportMaxPerHour: number };
  /** Rejected and merged reports keep their text and exact point this long after moderation (days). */
  reportRetentionDays: number;
  /** Confirmation messages sent to one contact address in 24 hours, at most (no message storm). */
  confirmationsPerAddressDay: number;
  /** A subscription not confirmed within this is deleted, with its contact details. */
  confirmTtlMs: number;
  /**
   * An ended subscription (unsubscribed, or its recipient gone; its contact details were erased at
   * once) is deleted this long after it ended, with the link from its deliveries (privacy.ts).
   */
  unsubscribedRetentionMs: number;
  /** Accept webhook URLs on loopback and private networks (tests only: server-side request forgery). */
  webhookAllowPrivate: boolean;
  /** GET /v1/alerts lists alerts that ended within this many hours as `recent`. */
  recentAlertsHours: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  lineBaseUrl: string;
  lineToken: string | undefined;
  vapid: { publicKey: string; privateKey: string; subject: string } | undefined;
  vapidSubject: string;
  /** Accept http:// push endpoints (a local test push service only: RFC 8030 requires HTTPS). */
  webpushAllowHttp: boolean;
  staff: StaffMember[];
  escalateAfterMin: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  sendTimeoutMs: number;
  defaultDailyCap: number;
  tickMs: number;
  dispatchPollMs: number;
  /**
   * A reading steps the rules only while its own time is at most this old (default: the project's
   * live window, 15 min, @cnx/domain freshness.ts). Older ones (history uploads, replays, a backlog
   * after an outage) only become samples.
   */
  liveWindowMs: number;
  /**
   * The sender lease (lease.ts): this process's name in it, how long a lease lasts unrenewed (a
   * standby takes over this long after the sender died or froze) and how often the sender renews.
   */
  instanceId: string;
  leaseTtlMs: number;
  leaseRenewMs: number;
}

export function loadAlertsConfig(env: Record<string, string | undefined> = process.env): AlertsConfig {
  const r = new EnvReader(env);
  const city = r.string('CNX_CITY', DEFAULT_CITY_ID);
  const dataDir = path.resolve(r.string('CNX_DATA_DIR', './data'));
  const httpPort = r.int('ALERTS_HTTP_PORT', 8082, 0, 65535);
  const mqttUrl = r.url('ALERTS_MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']) ?? 'mqtt://127.0.0.1:1883';
  const publicApiUrl = (r.url('ALERTS_PUBLIC_API_URL', ['http:', 'https:']) ?? 'http://127.0.0.1:8080').replace(
    /\/+$/,
    '',
  );
  const dashboardUrl = (r.url('ALERTS_DASHBOARD_URL', ['http:', 'https:']) ?? 'http://127.0.0.1:3000').replace(
    /\/+$/,
    '',
  );
  if (env.ALERTS_PUBLIC_URL !== undefined)
    r.problem('ALERTS_PUBLIC_URL was replaced by ALERTS_PUBLIC_API_URL and ALERTS_DASHBOARD_URL (issue 12)');
  const smtpUrl = r.url('ALERTS_SMTP_URL', ['smtp:', 'smtps:']);
  const lineBaseUrl = (r.url('ALERTS_LINE_BASE_URL', ['http:', 'https:']) ?? 'https://api.line.me').replace(/\/$/, '');
  let rulesFile = r.optionalString('ALERTS_RULES_FILE');
  if (!rulesFile) {
    try {
      rulesFile = path.join(resolveCityDir(city), 'alert-rules.json');
    } catch (e) {
      r.problem(`CNX_CITY=${JSON.stringify(city)}: ${(e as Error).message}`);
      rulesFile = '';
    }
  }
  const vPub = r.optionalString('ALERTS_VAPID_PUBLIC_KEY');
  const vPriv = r.optionalString('ALERTS_VAPID_PRIVATE_KEY');
  const vapidSubject = r.string('ALERTS_VAPID_SUBJECT', 'mailto:alerts@cnx-sense.invalid');
  if (!!vPub !== !!vPriv) r.problem('ALERTS_VAPID_PUBLIC_KEY and ALERTS_VAPID_PRIVATE_KEY must be set together');
  const webpushAllowHttp = r.bool('ALERTS_WEBPUSH_ALLOW_HTTP', false);
  const staff = readStaff(r, r.optionalString('ALERTS_STAFF_FILE'), webpushAllowHttp);
  const cfg: AlertsConfig = {
    city,
    dataDir,
    dbFile: path.resolve(r.string('ALERTS_DB_FILE', path.join(dataDir, 'alerts.sqlite'))),
    rulesFile,
    mqttUrl,
    mqttClientId: r.string('ALERTS_MQTT_CLIENT_ID', `cnx-alerts-${city}`),
    mqttUsername: r.optionalString('ALERTS_MQTT_USERNAME'),
    mqttPassword: r.optionalString('ALERTS_MQTT_PASSWORD'),
    httpHost: r.string('ALERTS_HTTP_HOST', '127.0.0.1'),
    httpPort,
    publicApiUrl,
    dashboardUrl,
    trustProxy: r.string('ALERTS_TRUST_PROXY', 'loopback'),
    rateLimit: {
      max: r.int('ALERTS_RATE_LIMIT_MAX', 600, 1, 1_000_000),
      windowMs: r.int('ALERTS_RATE_LIMIT_WINDOW_S', 60, 1, 86_400) * 1000,
      subscribeMaxPerHour: r.int('ALERTS_SUBSCRIBE_RATE_LIMIT_MAX', 30, 1, 1_000_000),
      reportMaxPerHour: r.int('ALERTS_REPORT_RATE_LIMIT_MAX', 30, 1, 1_000_000),
    },
    reportRetentionDays: r.int('ALERTS_REPORT_RETENTION_D', 30, 1, 3650),
    confirmationsPerAddressDay: r.int('ALERTS_CONFIRMATIONS_PER_ADDRESS_DAY', 3, 1, 100),
    confirmTtlMs: r.int('ALERTS_CONFIRM_TTL_H', 48, 1, 720) * 3_600_000,
    unsubscribedRetentionMs: r.int('ALERTS_UNSUBSCRIBED_RETENTION_D', 30, 0, 365) * 86_400_000,
    webhookAllowPrivate: r.bool('ALERTS_WEBHOOK_ALLOW_PRIVATE', false),
    recentAlertsHours: r.int('ALERTS_RECENT_HOURS', 24, 1, 720),
    smtpUrl,
    mailFrom: r.string('ALERTS_MAIL_FROM', 'cnx-sense alerts <alerts@cnx-sense.invalid>'),
    lineBaseUrl,
    lineToken: r.optionalString('ALERTS_LINE_TOKEN'),
    vapid: vPub && vPriv ? { publicKey: vPub, privateKey: vPriv, subject: vapidSubject } : undefined,
    vapidSubject,
    webpushAllowHttp,
    staff,
    escalateAfterMin: r.int('ALERTS_ESCALATE_MIN', 15, 1, 10_080),
    maxAttempts: r.int('ALERTS_MAX_ATTEMPTS', 8, 1, 100),
    retryBaseMs: r.int('ALERTS_RETRY_BASE_MS', 1000, 10, 3_600_000),
    retryMaxMs: r.int('ALERTS_RETRY_MAX_MS', 600_000, 10, 86_400_000),
    sendTimeoutMs: r.int('ALERTS_SEND_TIMEOUT_MS', 10_000, 100, 600_000),
    defaultDailyCap: r.int('ALERTS_DAILY_CAP', 10, 1, 1000),
    tickMs: r.int('ALERTS_TICK_MS', 60_000, 50, 3_600_000),
    dispatchPollMs: r.int('ALERTS_DISPATCH_POLL_MS', 500, 10, 60_000),
    liveWindowMs: r.int('ALERTS_LIVE_WINDOW_MIN', LIVE_MAX_AGE_MS / 60_000, 1, 10_080) * 60_000,
    instanceId: r.string('ALERTS_INSTANCE_ID', `${hostname()}-${process.pid}`),
    leaseTtlMs: r.int('ALERTS_LEASE_TTL_MS', 10_000, 1000, 600_000),
    leaseRenewMs: r.int('ALERTS_LEASE_RENEW_MS', 2000, 100, 300_000),
  };
  // At least two renewals per lease: one late renewal (a busy disk, a GC pause) must not cost the lease.
  if (cfg.leaseRenewMs * 2 > cfg.leaseTtlMs)
    r.problem(
      `ALERTS_LEASE_RENEW_MS=${cfg.leaseRenewMs} must be at most half of ALERTS_LEASE_TTL_MS=${cfg.leaseTtlMs}`,
    );
  r.finish();
  return cfg;
}

function readStaff(r: EnvReader, file: string | undefined, allowHttp: boolean): StaffMember[] {
  if (!file) return [];
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as StaffMember[];
    if (!Array.isArray(doc)) throw new Error('expected a JSON array');
    doc.forEach((s, i) => {
      if (!s || typeof s.id !== 'string' || typeof s.token !== 'string' || s.token.length < 16)
        r.problem(`ALERTS_STAFF_FILE: entry ${i} needs an id and a token of at least 16 characters`);
      if (!['email', 'line', 'webhook', 'webpush'].includes(s?.channel))
        r.problem(`ALERTS_STAFF_FILE: entry ${i}: bad channel`);
      if (!Number.isInteger(s?.tier) || s.tier < 0)
        r.problem(`ALERTS_STAFF_FILE: entry ${i}: tier must be an integer ≥ 0`);
      if (typeof s?.address !== 'string') r.problem(`ALERTS_STAFF_FILE: entry ${i}: address must be a string`);
      else if (s.channel === 'webpush') {
        let problem: string | undefined;
        try {
          problem = pushSubscriptionProblem(JSON.parse(s.address), allowHttp);
        } catch {
          problem = 'must be a PushSubscription as JSON text';
        }
        if (problem) r.problem(`ALERTS_STAFF_FILE: entry ${i}: address ${problem}`);
      } else if (s.channel === 'webhook' && !/^https?:\/\//.test(s.address))
        r.problem(`ALERTS_STAFF_FILE: entry ${i}: address must be an http(s) URL`);
    });
    const ids = doc.map((s) => s?.id);
    if (new Set(ids).size !== ids.length) r.problem('ALERTS_STAFF_FILE: staff ids must be unique');
    if (new Set(doc.map((s) => s?.token)).size !== doc.length)
      r.problem('ALERTS_STAFF_FILE: every staff member needs their own token');
    return doc;
  } catch (e) {
    r.problem(`ALERTS_STAFF_FILE=${JSON.stringify(file)}: ${(e as Error).message}`);
    return [];
  }
}
