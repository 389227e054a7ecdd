import { distanceM } from '@cnx/city-pack';
import type { Station as StationOf } from '@cnx/domain';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import {
  errorResponses,
  MAX_RADIUS_M,
  NoQuery,
  NotModified,
  ok,
  Station,
  StationList,
  StationListQuery,
  StationParams,
} from '../../schemas';
import { type CityContext, pageOf, parseCircle, type StationFilter } from '../../services/city';
import { emptyStatus } from '../../services/now.service';
import { cacheFor, licenceLinks } from '../../util/http';

/**
 * GET /v1/stations (filter by kind, district, bbox or radius, ids; in pages) and
 * GET /v1/stations/{stationId}: with the open-data metadata OpenAQ users expect (provider, owner,
 * instrument grade and sensor, first and last reading: issue 14).
 */
export const stationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, now, spans } = app.cnx;

  const describe = async (
    stations: readonly StationOf[],
    filter: StationFilter = {},
  ): Promise<Static<typeof Station>[]> => {
    const [snap, span] = await Promise.all([now.snapshot(), spans.spans()]);
    const circle = parseCircle(filter);
    return stations.map((s) => {
      const levels = city.levels(s);
      return {
        id: s.id,
        kind: s.kind,
        name: s.name,
        district: s.district,
        location: s.location,
        ...(s.provider ? { provider: s.provider } : {}),
        ...(s.owner ? { owner: s.owner } : {}),
        ...(s.instrument ? { instrument: s.instrument } : {}),
        devices: city.devicesOf(s.id).map((d) => ({ id: d.id, model: d.model, transport: d.transport })),
        ...(levels ? { canal: levels } : {}),
        firstReading: span.get(s.id)?.firstReading ?? null,
        lastReading: span.get(s.id)?.lastReading ?? null,
        ...(circle ? { distanceM: Math.round(distanceM(circle.centre, s.location)) } : {}),
        status: snap.status.get(s.id) ?? emptyStatus(),
      };
    });
  };

  app.get(
    '/stations',
    {
      schema: {
        tags: ['stations'],
        operationId: 'listStations',
        summary: 'Stations with their status',
        description:
          'Every station of the city pack, filtered by kind, district, ids, and a bounding box (`bbox`) or a radius ' +
          `(\`coordinates=lat,lon&radius=metres\`, great-circle, at most ${MAX_RADIUS_M} m; nearest first, with ` +
          '`distanceM`), in pages (`limit`, `page`; `meta.found` counts all matches). Each station names its data ' +
          'provider, owner and instrument (reference or low-cost, sensor model) and the times of its first and last ' +
          'stored reading. Status: last reading, online/offline (silent for longer than API_OFFLINE_AFTER_S), and QC ' +
          'health (share of flagged readings in 24 h).',
        querystring: StationListQuery,
        response: { 200: ok(StationList, 'Stations'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const selected = nearestFirst(city, req.query);
      const page = pageOf(selected, req.query);
      const data = await describe(page.data, req.query);
      cacheFor(reply, 30);
      licenceLinks(reply, city.licence);
      return { meta: { city: city.id, ...page.meta, generatedAt: await app.cnx.now.asOf() }, data };
    },
  );

  app.get(
    '/stations/:stationId',
    {
      schema: {
        tags: ['stations'],
        operationId: 'getStation',
        summary: 'One station with its devices and status',
        params: StationParams,
        querystring: NoQuery,
        response: { 200: ok(Station, 'The station'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const s = city.station(req.params.stationId);
      cacheFor(reply, 30);
      return (await describe([s]))[0]!;
    },
  );
};

/** The selected stations; in a radius search, nearest first (then by id). */
export function nearestFirst(city: CityContext, filter: StationFilter): StationOf[] {
  const selected = city.select(filter);
  const circle = parseCircle(filter);
  if (!circle) return selected;
  const d = new Map(selected.map((s) => [s.id, distanceM(circle.centre, s.location)]));
  return selected.sort((a, b) => d.get(a.id)! - d.get(b.id)! || (a.id < b.id ? -1 : 1));
}
