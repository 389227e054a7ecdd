import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import {
  errorResponses,
  NoQuery,
  NotModified,
  ok,
  Station,
  StationList,
  StationListQuery,
  StationParams,
} from '../../schemas';
import { emptyStatus } from '../../services/now.service';
import { cacheFor, licenceLinks } from '../../util/http';

/** GET /v1/stations (filter by kind, district, bbox, ids) and GET /v1/stations/{stationId}. */
export const stationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, now } = app.cnx;

  const describe = async (ids: Set<string>): Promise<Static<typeof Station>[]> => {
    const snap = await now.snapshot();
    return city.stations
      .filter((s) => ids.has(s.id))
      .map((s) => {
        const levels = city.levels(s);
        return {
          id: s.id,
          kind: s.kind,
          name: s.name,
          district: s.district,
          location: s.location,
          devices: city.devicesOf(s.id).map((d) => ({ id: d.id, model: d.model, transport: d.transport })),
          ...(levels ? { canal: levels } : {}),
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
          'Every station of the city pack, filtered by kind, district, bounding box or ids. Status: last reading, ' +
          'online/offline (silent for longer than API_OFFLINE_AFTER_S), and QC health (share of flagged readings in 24 h).',
        querystring: StationListQuery,
        response: { 200: ok(StationList, 'Stations'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const selected = city.select(req.query);
      const data = await describe(new Set(selected.map((s) => s.id)));
      cacheFor(reply, 30);
      licenceLinks(reply, city.licence);
      return { meta: { city: city.id, count: data.length, generatedAt: await app.cnx.now.asOf() }, data };
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
      return (await describe(new Set([s.id])))[0]!;
    },
  );
};
