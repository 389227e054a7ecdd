import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CanalList,
  CanalParams,
  CanalStatus,
  errorResponses,
  NoQuery,
  NotModified,
  ok,
  PageQuery,
} from '../../schemas';
import { pageOf } from '../../services/city';
import { cacheFor, licenceLinks } from '../../util/http';

const DESCRIPTION =
  'Water level against the bank, warning and critical levels of the city pack (placeholders until surveyed: ' +
  'levels.source), the rate of rise over the last hour with its 95 % uncertainty (null until 10 readings span ' +
  '15 minutes; risingFast only when the rise minus its uncertainty is above the city pack threshold) and the Thai ' +
  'surface-water class from DO and pH (partial: BOD and NH3-N are not measured, so the class may be optimistic).';

/** GET /v1/canal and GET /v1/canal/{stationId}. */
export const canalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, canal, bodies } = app.cnx;

  app.get(
    '/canal',
    {
      schema: {
        tags: ['canal'],
        operationId: 'listCanalStations',
        summary: 'Status of every canal station',
        description: `${DESCRIPTION} In pages (\`limit\`, \`page\`; \`meta.found\` counts every canal station).`,
        querystring: PageQuery,
        response: { 200: ok(CanalList, 'Canal stations'), ...NotModified, ...errorResponses() },
      },
    },
    async (req, reply) => {
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, async () => {
        const page = pageOf(await canal.all(), req.query);
        return { meta: { city: city.id, ...page.meta, generatedAt: await app.cnx.now.asOf() }, data: page.data };
      });
    },
  );

  app.get(
    '/canal/:stationId',
    {
      schema: {
        tags: ['canal'],
        operationId: 'getCanalStation',
        summary: 'Status of one canal station',
        description: DESCRIPTION,
        params: CanalParams,
        querystring: NoQuery,
        response: { 200: ok(CanalStatus, 'The canal station'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const s = city.canalStation(req.params.stationId); // 404 before anything is cached
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, () => canal.one(s.id));
    },
  );
};
