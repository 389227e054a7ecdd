import { STORE_ERROR_CODES, StoreError } from './errors';
import { InfluxClient } from './influxdb.client';
import { type HttpAnswer, httpError } from './influxdb.http';
import type { InfluxVersionSetting } from './influxdb.version';
import { type StoreLogger, silentLogger } from './logger';

export interface InfluxInitOptions {
  url: string;
  token?: string;
  username?: string;
  password?: string;
  /** The v1 database the store names (INFLUX_DB). */
  database: string;
  /** 2.x: the DBRP mapping's retention policy (INFLUX_RP, default `autogen`). */
  retentionPolicy?: string;
  /** 2.x: organization name (INFLUX_ORG). */
  org?: string;
  /** 2.x: bucket name (INFLUX_BUCKET, default: the database). */
  bucket?: string;
  version?: InfluxVersionSetting;
  timeoutMs?: number;
  logger?: StoreLogger;
}

export type InfluxInitResult =
  | { major: 1 | 3; server: string | null; done: 'nothing' }
  | {
      major: 2;
      server: string | null;
      done: 'bucket-and-dbrp';
      orgID: string;
      bucket: { id: string; name: string; created: boolean };
      dbrp: { id: string; database: string; retentionPolicy: string; created: boolean };
    };

const invalid = (message: string): StoreError =>
  new StoreError(STORE_ERROR_CODES.invalidConfig, message, { retryable: false });

/**
 * The init step for InfluxDB 2.x (the store itself never creates anything there: 2.x forbids
 * `CREATE DATABASE`): make sure the bucket exists and a DBRP mapping routes the store's database and
 * retention policy to it, through the v2 HTTP API, idempotently (a second run changes nothing):
 *
 *   GET  /api/v2/orgs?org=<org>                              -> orgs[0].id
 *   GET  /api/v2/buckets?orgID=<id>&name=<bucket>            -> the bucket, if it exists
 *   POST /api/v2/buckets   {orgID, name, retentionRules: []}  (no expiry: retention is the issue-14 rollup work)
 *   GET  /api/v2/dbrps?orgID=<id>&db=<database>&rp=<rp>      -> the mapping, if it exists
 *   POST /api/v2/dbrps     {orgID, bucketID, database, retention_policy, default: true}
 *
 * A mapping of that database and retention policy to another bucket is an error, not rewired. On
 * 1.x (the gateway creates the database at start) and 3 (3 Core/Enterprise create the database on
 * the first write) there is nothing to do. The version is settled as the store does it (GET /ping).
 */
export async function initInfluxStorage(opts: InfluxInitOptions): Promise<InfluxInitResult> {
  const log = opts.logger ?? silentLogger;
  const client = new InfluxClient({ ...opts, timeoutMs: opts.timeoutMs ?? 10_000, logger: log });
  client.http.open();
  try {
    const server = await client.connect(opts.version ?? 'auto');
    if (server.major !== 2) return { major: server.major, server: server.version, done: 'nothing' };
    if (!opts.org) throw invalid('InfluxDB 2.x init: set INFLUX_ORG (the organization that owns the bucket)');
    const api = new V2Api(client);
    const org = opts.org;
    const orgs = await api.get<{ orgs?: Array<{ id: string; name: string }> }>('organization', '/api/v2/orgs', { org });
    const orgID = orgs?.orgs?.find((o) => o.name === org)?.id;
    if (!orgID) throw invalid(`InfluxDB 2.x init: no organization named ${JSON.stringify(org)}`);

    const name = opts.bucket ?? opts.database;
    const found = await api.get<{ buckets?: Array<{ id: string; name: string }> }>('bucket', '/api/v2/buckets', {
      orgID,
      name,
    });
    let bucket = found?.buckets?.find((b) => b.name === name);
    const bucketCreated = !bucket;
    if (!bucket)
      bucket = await api.post<{ id: string; name: string }>('bucket', '/api/v2/buckets', {
        orgID,
        name,
        retentionRules: [],
      });

    const rp = opts.retentionPolicy ?? 'autogen';
    const db = opts.database;
    type Dbrp = { id: string; bucketID: string; database: string; retention_policy: string };
    const mapped = await api.get<{ content?: Dbrp[] }>('DBRP mapping', '/api/v2/dbrps', { orgID, db, rp });
    let dbrp = mapped?.content?.find((m) => m.database === db && m.retention_policy === rp);
    if (dbrp && dbrp.bucketID !== bucket.id) {
      throw invalid(
        `InfluxDB 2.x init: database ${JSON.stringify(db)} retention policy ${JSON.stringify(rp)} is mapped to bucket ${dbrp.bucketID}, not ${JSON.stringify(name)} (${bucket.id}); fix the mapping or INFLUX_BUCKET`,
      );
    }
    const dbrpCreated = !dbrp;
    if (!dbrp) {
      const made = await api.post<Dbrp | { content: Dbrp }>('DBRP mapping', '/api/v2/dbrps', {
        orgID,
        bucketID: bucket.id,
        database: db,
        retention_policy: rp,
        default: true,
      });
      dbrp = 'content' in made ? made.content : made;
    }
    const result: InfluxInitResult = {
      major: 2,
      server: server.version,
      done: 'bucket-and-dbrp',
      orgID,
      bucket: { id: bucket.id, name, created: bucketCreated },
      dbrp: { id: dbrp.id, database: db, retentionPolicy: rp, created: dbrpCreated },
    };
    log.info({ url: client.origin, ...result }, 'influxdb 2.x bucket and DBRP mapping ready');
    return result;
  } finally {
    await client.http.close();
  }
}

/** The few /api/v2 calls of the init step: JSON in and out, errors as StoreErrors. */
class V2Api {
  constructor(private readonly client: InfluxClient) {}

  /** GET; a 404 (2.x's answer for a name filter that matches nothing, in some versions) is undefined. */
  async get<T>(what: string, path: string, params: Record<string, string>): Promise<T | undefined> {
    const answer = await this.client.http.send(`list ${what}`, 'GET', path, params);
    if (answer.status === 404) return undefined;
    return this.json<T>(`list ${what}`, answer);
  }

  async post<T>(what: string, path: string, body: object): Promise<T> {
    const answer = await this.client.http.send(`create ${what}`, 'POST', path, {}, JSON.stringify(body), {
      'content-type': 'application/json',
    });
    return this.json<T>(`create ${what}`, answer);
  }

  private json<T>(what: string, answer: HttpAnswer): T {
    if (answer.status < 200 || answer.status > 299) throw httpError(what, answer);
    try {
      return JSON.parse(answer.text) as T;
    } catch (err) {
      throw new StoreError(
        STORE_ERROR_CODES.queryFailed,
        `InfluxDB ${what}: unreadable answer: ${answer.text.slice(0, 200)}`,
        {
          retryable: true,
          status: answer.status,
          cause: err,
        },
      );
    }
  }
}
