import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiError } from '../../errors';
import { errorResponses, StreamQuery } from '../../schemas';
import type { LiveEvent } from '../../services/bus.service';
import { iso } from '../../util/time';

/** A client that lets this much pile up unread is too slow: its stream is closed (it may reconnect). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * GET /v1/stream: Server-Sent Events of normalised readings from the bus, filtered by station,
 * district and kind. Events: `reading` (data: LiveReading), `heartbeat` (data: {ts}) every
 * API_STREAM_HEARTBEAT_S; `alert` (data: LiveAlert) for each alert transition about the selected
 * stations; `report` (data: ReportFeature) for each citizen report staff approve. Bounded in total and
 * per client.
 */
export const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, streams, config } = app.cnx;

  app.addHook('preClose', async () => {
    streams.closeAll();
  });

  app.get(
    '/stream',
    {
      exposeHeadRoute: false,
      schema: {
        tags: ['live'],
        operationId: 'streamReadings',
        summary: 'Live readings and alerts as Server-Sent Events',
        description:
          'An EventSource stream. `event: reading` carries a LiveReading (components/schemas/LiveReading) as ' +
          '`data`, with `id: <ts>-<device>`; `event: heartbeat` (Heartbeat) keeps proxies from closing an idle ' +
          'stream; `event: alert` carries a LiveAlert (components/schemas/LiveAlert) for every alert transition about ' +
          'a selected station (district and city alerts are about all their stations); `event: report` carries a ' +
          'ReportFeature (GeoJSON) when staff approve a citizen report, on every stream whatever its filter. ' +
          'Filter with station, district and kind (all optional, combined with AND). Readings are ' +
          'live only, by their own time: a reading more than 15 minutes old (a replay, a history upload, a stale ' +
          'delivery) or more than 2 minutes ahead is not sent, and a reconnect does not replay what was missed (use ' +
          '/readings for that). `usable: false` marks a reading the quality policy keeps out of every figure. ' +
          `At most ${config.stream.maxStreams} streams in total and ${config.stream.maxPerClient} per client.`,
        querystring: StreamQuery,
        response: {
          200: {
            description: 'text/event-stream, open until the client disconnects',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(404),
        },
      },
    },
    async (req, reply) => {
      const stations = new Set(city.select(req.query).map((s) => s.id));
      const live = app.cnx.live;
      if (!live) {
        throw new ApiError('stream_unavailable', 'the live stream is disabled on this server (API_LIVE=false)');
      }
      const raw = reply.raw;
      let closed = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let unsubscribe = (): void => undefined;
      let release = (): void => undefined;
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        release();
        app.metrics.streamsOpen.set(streams.size);
        raw.end();
      };
      const slot = streams.acquire(req.ip, close);
      if (slot === 'full') {
        throw new ApiError(
          'stream_unavailable',
          `all ${streams.maxStreams} live stream slots are taken; retry later`,
          undefined,
          {
            'retry-after': '30',
          },
        );
      }
      if (slot === 'client') {
        throw new ApiError('too_many_streams', `at most ${streams.maxPerClient} live streams per client`, undefined, {
          'retry-after': '30',
        });
      }
      release = slot;
      app.metrics.streamsOpen.set(streams.size);
      reply.hijack();
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(`: cnx-sense live readings of ${city.id}\nretry: 5000\n\n`);
      const send = (chunk: string, outcome: 'sent' | 'heartbeat') => {
        if (closed) return;
        if (raw.writableLength > MAX_BUFFERED_BYTES) {
          app.metrics.streamEvents.inc({ outcome: 'dropped' });
          req.log.info({ buffered: raw.writableLength }, 'closing a slow live stream');
          close();
          return;
        }
        raw.write(chunk);
        if (outcome === 'sent') app.metrics.streamEvents.inc({ outcome });
      };
      const stopReadings = live.subscribe((e: LiveEvent) => {
        if (stations.has(e.station)) send(`event: reading\nid: ${e.id}\ndata: ${e.data}\n\n`, 'sent');
      });
      // Alert transitions about any of the stream's stations (a district or city alert is about all of its).
      const stopAlerts = live.subscribeAlerts?.((e) => {
        const data = app.cnx.publicAlerts.fromEvent(e);
        if (data.alert.stations.some((s) => stations.has(s)))
          send(`event: alert\nid: alert-${e.alertId}-${e.ts}\ndata: ${JSON.stringify(data)}\n\n`, 'sent');
      });
      // Approved citizen reports: city-wide and rare, sent on every stream whatever its filter.
      const stopReports = live.subscribeReports?.((e) =>
        send(`event: report\nid: report-${e.report.id}\ndata: ${JSON.stringify(e.report)}\n\n`, 'sent'),
      );
      unsubscribe = () => {
        stopReadings();
        stopAlerts?.();
        stopReports?.();
      };
      heartbeat = setInterval(
        () => send(`event: heartbeat\ndata: {"ts":"${iso(Date.now())}"}\n\n`, 'heartbeat'),
        config.stream.heartbeatMs,
      );
      // The response's close: the client went away (the request's own 'close' fires once it is read).
      raw.on('close', close);
      raw.on('error', close);
      req.log.info({ stations: stations.size, open: streams.size }, 'live stream opened');
    },
  );
};
