/**
 * HTTP push for Sensor.Community (airrohr) firmware: the "Send data to custom API" POST becomes one
 * reading through the same ingest stages as MQTT (step: validation, QC, correction; sink: the
 * durable spool, then republish; dead letters). docs/airrohr.md is the citizen's and operator's guide.
 *
 * Order of checks, each answered with JSON `{ ok, reason?, message? }`:
 *   body size (413) -> Content-Type (415) -> UTF-8 and JSON (400) -> X-Sensor / X-Pin (400)
 *   -> registered (403) -> password if the registration has one (401) -> body schema (400)
 *   -> retry of the last accepted body (200, duplicate) -> values (400) -> step + sink: spooled (200),
 *   rejected (400) or spool full (503 + Retry-After).
 * The firmware counts any 2xx as success (HTTP_CODE_OK .. HTTP_CODE_ALREADY_REPORTED in
 * sendData()) and logs the body of anything else in its debug log, where the citizen can read it.
 *
 * Timestamps: the firmware sends none, so a reading's time is the gateway's receive time (ms), made
 * strictly increasing per device so two pushes can never overwrite each other. A client retry is
 * therefore a new reading; retries of an identical body within `dedupeWindowMs` are recognised and
 * answered 200 without a second reading (each real body differs: it carries `samples`, `min_micro`,
 * `max_micro` and `signal`, which change every interval).
 */
import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isValidId } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { GATEWAY_ERRORS, type RejectReason } from '../errors';
import type { DeadLetters } from '../ingest/dead-letters';
import type { SpoolSink } from '../ingest/sink';
import type { IngestStep } from '../ingest/step';
import type { AirrohrPushConfig } from './airrohr.config';
import { decodeAirrohrValues } from './airrohr.format';
import type { AirrohrPushStats, PushResult } from './airrohr.metrics';
import type { AirrohrRegistry, RegisteredSensor } from './airrohr.registry';
import {
  type AirrohrBody,
  AirrohrBodySchema,
  AirrohrHeadersSchema,
  PIN_HEADER_PATTERN,
  PushErrorSchema,
  PushOkSchema,
} from './airrohr.schemas';

export interface AirrohrPushDeps {
  /** The ingest stages: the reading is committed (durable) before we answer 200. */
  ingest: {
    step: Pick<IngestStep, 'register' | 'decoded'>;
    sink: Pick<SpoolSink, 'full' | 'commit'>;
    deadLetters: Pick<DeadLetters, 'publish'>;
  };
  /** The gateway's counters (GatewayStats): messages received, values ignored, rejections by reason. */
  stats: { received: number; ignoredValues: number; readonly rejected: ReadonlyMap<RejectReason, number> };
  registry: AirrohrRegistry;
  pushStats: AirrohrPushStats;
  config: Pick<AirrohrPushConfig, 'path' | 'maxBodyBytes' | 'dedupeWindowMs' | 'registerInfo' | 'retryAfterSeconds'>;
  /** Defaults to the Fastify instance's logger. */
  logger?: Logger;
  /** Clock (tests). */
  now?: () => number;
}

/** A rejection decided by the plugin; the error handler answers, counts and dead-letters it. */
class PushRejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: RejectReason,
    readonly detail: string,
    readonly result: PushResult,
    /** Shown to the client instead of the catalogue text + detail. */
    readonly clientMessage?: string,
  ) {
    super(`${GATEWAY_ERRORS[reason]}: ${detail}`);
  }
}

interface PushState {
  receivedAt: number;
  raw?: Buffer;
  pin?: number;
  sensor?: RegisteredSensor;
}

const EMPTY = Buffer.alloc(0);
const PIN_RE = new RegExp(PIN_HEADER_PATTERN);
/** Unregistered sensors are logged once each (info) so the operator sees who is trying; bounded. */
const MAX_LOGGED_UNREGISTERED = 1000;

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
};

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Basic-auth password check in constant time (the user name is not checked). */
function passwordMatches(authorization: string | undefined, expected: string): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,400})$/i.exec(authorization ?? '');
  if (!m?.[1]) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return timingSafeEqual(sha256(decoded.slice(colon + 1)), sha256(expected));
}

/** Fastify plugin: POST (and an informational GET) on `config.path`. Encapsulated: register as is. */
export function airrohrPushPlugin(deps: AirrohrPushDeps): FastifyPluginAsync {
  const { ingest, stats, registry, pushStats, config } = deps;
  const now = deps.now ?? Date.now;

  return async (app) => {
    const log = deps.logger ?? app.log;
    const states = new WeakMap<FastifyRequest, PushState>();
    const state = (req: FastifyRequest): PushState => {
      let st = states.get(req);
      if (!st) {
        st = { receivedAt: now() };
        states.set(req, st);
      }
      return st;
    };
    /** Last accepted body per (sensor, pin): retries within the window are answered, not re-ingested. */
    const lastBody = new Map<string, { hash: string; at: number }>();
    /** Last reading time per device: readings of one device get strictly increasing times. */
    const lastTs = new Map<string, number>();
    const loggedUnregistered = new Set<string>();

    const sensorHeader = (req: FastifyRequest): string | undefined => {
      const h = req.headers['x-sensor'];
      return typeof h === 'string' ? h : undefined;
    };
    const source = (req: FastifyRequest): string => {
      const h = sensorHeader(req);
      const pin = req.headers['x-pin'];
      const sensor = h === undefined ? 'none' : isValidId(h) ? h : show(h);
      return `POST ${config.path} X-Sensor=${sensor}${typeof pin === 'string' ? ` X-Pin=${PIN_RE.test(pin) ? pin : show(pin)}` : ''}`;
    };

    /** Count, dead-letter (as the registered device, else as the X-Sensor value) and answer. */
    const rejectRequest = (req: FastifyRequest, reply: FastifyReply, r: PushRejection) => {
      const st = state(req);
      stats.received++;
      const deviceId = st.sensor?.device.id ?? registry.get(sensorHeader(req) ?? '')?.device.id ?? sensorHeader(req);
      ingest.deadLetters.publish(
        { reason: r.reason, detail: r.detail },
        { deviceId: deviceId ?? '', payload: st.raw ?? EMPTY, receivedAt: st.receivedAt, topic: source(req) },
      );
      pushStats.count(r.result);
      if (r.status === 401) reply.header('www-authenticate', 'Basic realm="cnx-sense airrohr push"');
      return reply.code(r.status).send({ ok: false, reason: r.reason, message: r.clientMessage ?? r.message });
    };

    // Only application/json (any charset parameter); the raw bytes are kept for the dead letter.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      const raw = body as Buffer;
      state(req).raw = raw;
      if (!isUtf8(raw)) return done(new PushRejection(400, 'invalid_utf8', 'body bytes', 'bad_request'), undefined);
      try {
        done(null, JSON.parse(raw.toString('utf8')));
      } catch (e) {
        done(new PushRejection(400, 'malformed_json', (e as Error).message, 'bad_request'), undefined);
      }
    });

    // Route schemas are TypeBox (JSON Schema) objects, checked by TypeBox's compiler: no type
    // coercion (Fastify's default Ajv would turn 12.3 into "12.3" and back), same messages as MQTT.
    app.setValidatorCompiler(({ schema, httpPart }) => {
      const validator = Compile(schema as TSchema);
      return (data: unknown) => {
        if (validator.Check(data)) return { value: data };
        let detail = 'invalid';
        for (const e of validator.Errors(data)) {
          detail = `${e.instancePath || '/'} ${e.message}`;
          break;
        }
        const reason: RejectReason = httpPart === 'headers' ? 'bad_sensor_header' : 'schema_violation';
        return { error: new PushRejection(400, reason, detail, 'bad_request') };
      };
    });

    app.setErrorHandler((error: FastifyError, req, reply) => {
      if (error instanceof PushRejection) return rejectRequest(req, reply, error);
      switch (error.code) {
        case 'FST_ERR_CTP_BODY_TOO_LARGE': {
          const length = req.headers['content-length'];
          const detail = `${length === undefined ? 'chunked body' : `${length} bytes`} > ${config.maxBodyBytes}`;
          return rejectRequest(req, reply, new PushRejection(413, 'payload_too_large', detail, 'payload_too_large'));
        }
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
          const detail = `Content-Type ${show(req.headers['content-type'] ?? null)}, expected application/json`;
          return rejectRequest(
            req,
            reply,
            new PushRejection(415, 'unsupported_media_type', detail, 'unsupported_media_type'),
          );
        }
        case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
          return rejectRequest(
            req,
            reply,
            new PushRejection(400, 'malformed_json', 'body length differs from Content-Length', 'bad_request'),
          );
      }
      // Our bug or a broken connection: never crash, never leak details to the client.
      log.error({ err: error, sensor: sensorHeader(req) }, 'airrohr push failed');
      pushStats.count('error');
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      return reply.code(status).send({ ok: false, reason: 'internal_error', message: 'internal error' });
    });

    /** Headers, registration and password, before the body schema (an unregistered sensor learns that first). */
    const identify = async (req: FastifyRequest): Promise<void> => {
      const st = state(req);
      const header = sensorHeader(req);
      if (header === undefined || !isValidId(header)) {
        const detail =
          header === undefined
            ? 'X-Sensor header is missing (the firmware sends esp8266-<chip id>)'
            : `X-Sensor ${show(header)}`;
        throw new PushRejection(400, 'bad_sensor_header', detail, 'bad_request');
      }
      const pin = req.headers['x-pin'];
      if (pin !== undefined) {
        if (typeof pin !== 'string' || !PIN_RE.test(pin)) {
          throw new PushRejection(400, 'bad_sensor_header', `X-Pin ${show(pin)}`, 'bad_request');
        }
        st.pin = Number(pin);
      }
      const sensor = registry.get(header);
      if (!sensor) {
        if (!loggedUnregistered.has(header) && loggedUnregistered.size < MAX_LOGGED_UNREGISTERED) {
          loggedUnregistered.add(header);
          log.info({ sensor: header }, 'unregistered airrohr sensor is pushing');
        }
        const message = `Sensor ${header} is not registered with this cnx-sense gateway. ${config.registerInfo}`;
        throw new PushRejection(403, 'unregistered_sensor', `sensor ${header}`, 'unregistered', message);
      }
      if (sensor.password !== undefined && !passwordMatches(req.headers.authorization, sensor.password)) {
        const detail = req.headers.authorization ? 'wrong password' : 'no Authorization header';
        throw new PushRejection(401, 'bad_credentials', detail, 'unauthorized');
      }
      st.sensor = sensor;
    };

    app.post(
      config.path,
      {
        bodyLimit: config.maxBodyBytes,
        // Per-request logs would record citizens' IP addresses; rejections are counted and dead-lettered.
        logLevel: 'warn',
        onRequest: async (req) => {
          state(req);
        },
        preValidation: identify,
        schema: {
          headers: AirrohrHeadersSchema,
          body: AirrohrBodySchema,
          response: {
            200: PushOkSchema,
            400: PushErrorSchema,
            401: PushErrorSchema,
            403: PushErrorSchema,
            413: PushErrorSchema,
            415: PushErrorSchema,
            500: PushErrorSchema,
            503: PushErrorSchema,
          },
        },
      },
      async (req, reply) => {
        const st = state(req);
        const sensor = st.sensor as RegisteredSensor;
        const body = req.body as AirrohrBody;

        const key = `${sensor.sensor}|${st.pin ?? 0}`;
        const hash = createHash('sha1')
          .update(st.raw ?? EMPTY)
          .digest('base64');
        const previous = lastBody.get(key);
        if (
          config.dedupeWindowMs > 0 &&
          previous?.hash === hash &&
          st.receivedAt - previous.at <= config.dedupeWindowMs
        ) {
          pushStats.count('duplicate');
          return reply.code(200).send({ ok: true, duplicate: true, message: 'already received' });
        }

        // The body repeats the chip id of X-Sensor (esp8266id on ESP8266 and, in the official firmware, on ESP32).
        const bodyChip = body.esp8266id ?? body.esp32id;
        const headerChip = sensor.sensor.slice(sensor.sensor.indexOf('-') + 1);
        if (bodyChip !== undefined && bodyChip.toLowerCase() !== headerChip) {
          const detail = `chip id ${show(bodyChip)} in the body differs from X-Sensor ${sensor.sensor}`;
          return rejectRequest(req, reply, new PushRejection(400, 'schema_violation', detail, 'bad_request'));
        }

        const decoded = decodeAirrohrValues(body.sensordatavalues, st.pin);
        if (!decoded.ok) {
          const { reason, detail } = decoded.error;
          return rejectRequest(req, reply, new PushRejection(400, reason, detail, 'bad_request'));
        }

        const deviceId = sensor.device.id;
        const ts = Math.max(st.receivedAt, (lastTs.get(deviceId) ?? 0) + 1);
        // The transport's commit path: step -> sink (durable before the 200) or dead letter.
        let result: 'accepted' | 'rejected' | 'full' = 'full';
        let refusedFor: RejectReason | undefined;
        if (!ingest.sink.full) {
          ingest.step.register(sensor.device);
          // The values as decoded from the body: no JSON of our own in between.
          const step = ingest.step.decoded(deviceId, { ts, values: decoded.value.values }, st.receivedAt);
          if (!step.ok) {
            const payload = st.raw ?? EMPTY;
            ingest.deadLetters.publish(step.error, {
              deviceId,
              payload,
              receivedAt: st.receivedAt,
              topic: source(req),
            });
            refusedFor = step.error.reason;
            result = 'rejected';
          } else if (ingest.sink.commit(step.value, st.receivedAt)) result = 'accepted';
        }
        if (result === 'full') {
          pushStats.count('spool_full');
          reply.header('retry-after', String(config.retryAfterSeconds));
          return reply.code(503).send({
            ok: false,
            reason: 'spool_full',
            message: 'The gateway is storing a backlog; this reading was not kept. Try again later.',
          });
        }
        if (result === 'rejected') {
          // Not expected (the values were checked above with the same domain limits); it has been
          // counted and dead-lettered; tell the client which reason it recorded.
          const reason = refusedFor;
          pushStats.count('bad_request');
          return reply.code(400).send({
            ok: false,
            reason: reason ?? 'schema_violation',
            message: `${GATEWAY_ERRORS[reason ?? 'schema_violation']} (see the dead letter)`,
          });
        }
        lastTs.set(deviceId, ts);
        lastBody.set(key, { hash, at: st.receivedAt });
        // Same meaning as for MQTT: values of an accepted message that we do not store.
        stats.ignoredValues += decoded.value.ignored.length;
        pushStats.count('accepted');
        return reply.code(200).send({ ok: true });
      },
    );

    // A browser check for citizens: "is my server address right?"
    app.get(config.path, { logLevel: 'warn', schema: { response: { 200: PushOkSchema } } }, async () => ({
      ok: true as const,
      message: 'cnx-sense airrohr endpoint: sensors POST their data here (airrohr "Send data to custom API").',
    }));
  };
}
