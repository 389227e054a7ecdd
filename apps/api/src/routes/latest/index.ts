import { QC_FLAG_LIST } from '@cnx/domain';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  errorResponses,
  LatestList,
  NoQuery,
  NotModified,
  ok,
  StationLatest,
  StationListQuery,
  StationParams,
} from '../../schemas';
import { pageOf } from '../../services/city';
import { NOW_EXCLUDED_FLAGS } from '../../services/now.service';
import { cacheFor, licenceLinks } from '../../util/http';
import { nearestFirst } from '../stations/index';

const LATEST_DESCRIPTION =
  'The newest reading of each station and, for air stations, PM2.5 and PM10 as `hour1` (current clock hour so far), ' +
  '`rolling24h` (mean of the 24 hourly means ending with the current hour; valid with 18 of 24) and `nowcast` (EPA), ' +
  'with the official Thai AQI (PCD 2023, from rolling24h, as Air4Thai), the US AQI (EPA 2024, from the NowCast, as ' +
  'AirNow) and the Thai "now" index (`aqi.now`, from the NowCast or the current hour; not official), and which of the ' +
  'two Thai indices a map shows (`aqi.shown`). PM2.5 uses the EPA-corrected value when the gateway corrected the ' +
  'station (`basis`). `latest` is the newest reading the quality policy lets in, with its age and whether it is live ' +
  `by its own time. Readings flagged ${NOW_EXCLUDED_FLAGS.join(', ')} are left out of these figures; \`humidity\` ` +
  'only annotates (docs/qc.md).';

/** GET /v1/latest (all or filtered stations) and GET /v1/stations/{stationId}/latest. */
export const latestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, now, bodies } = app.cnx;

  app.get(
    '/latest',
    {
      schema: {
        tags: ['stations'],
        operationId: 'listLatest',
        summary: 'Latest readings, AQI, NowCast and 24-hour means of every station',
        description: LATEST_DESCRIPTION,
        querystring: StationListQuery,
        response: { 200: ok(LatestList, 'Latest state per station'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, async () => {
        const page = pageOf(nearestFirst(city, req.query), req.query);
        const data = await now.latest(page.data);
        return {
          meta: {
            city: city.id,
            ...page.meta,
            generatedAt: await app.cnx.now.asOf(),
            qcExcluded: QC_FLAG_LIST.filter((f) => NOW_EXCLUDED_FLAGS.includes(f)),
          },
          data,
        };
      });
    },
  );

  app.get(
    '/stations/:stationId/latest',
    {
      schema: {
        tags: ['stations'],
        operationId: 'getStationLatest',
        summary: 'Latest reading, AQI, NowCast and 24-hour means of one station',
        description: LATEST_DESCRIPTION,
        params: StationParams,
        querystring: NoQuery,
        response: { 200: ok(StationLatest, 'Latest state of the station'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const s = city.station(req.params.stationId);
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, async () => (await now.latest([s]))[0]!);
    },
  );
};
