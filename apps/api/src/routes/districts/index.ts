import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DistrictDetail,
  DistrictList,
  DistrictParams,
  errorResponses,
  NoQuery,
  NotModified,
  ok,
  PageQuery,
} from '../../schemas';
import { pageOf } from '../../services/city';
import { cacheFor, licenceLinks } from '../../util/http';

const SUMMARY =
  'Per innovation district: the worst air station (highest AQI, Thai first), both AQIs, the mean PM2.5 of its ' +
  'stations, the trend (slope of the district mean over the last three hourly means; steady within ±2 µg/m³ per ' +
  'hour) and the worst canal state.';

/** GET /v1/districts and GET /v1/districts/{districtId}. */
export const districtRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, districts, bodies } = app.cnx;

  app.get(
    '/districts',
    {
      schema: {
        tags: ['districts'],
        operationId: 'listDistricts',
        summary: 'Summaries of every district',
        description: `${SUMMARY} In pages (\`limit\`, \`page\`; \`meta.found\` counts every district).`,
        querystring: PageQuery,
        response: { 200: ok(DistrictList, 'District summaries'), ...NotModified, ...errorResponses() },
      },
    },
    async (req, reply) => {
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, async () => {
        const page = pageOf(await districts.summaries(), req.query);
        return { meta: { city: city.id, ...page.meta, generatedAt: await app.cnx.now.asOf() }, data: page.data };
      });
    },
  );

  app.get(
    '/districts/:districtId',
    {
      schema: {
        tags: ['districts'],
        operationId: 'getDistrict',
        summary: 'One district: summary and the latest state of each of its stations',
        description: SUMMARY,
        params: DistrictParams,
        querystring: NoQuery,
        response: { 200: ok(DistrictDetail, 'The district'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const d = city.district(req.params.districtId); // 404 before anything is cached
      cacheFor(reply, 15);
      licenceLinks(reply, city.licence);
      return bodies.reply(req, reply, async () => {
        const data = await districts.detail(d.id);
        return { meta: { city: city.id, generatedAt: await app.cnx.now.asOf() }, data };
      });
    },
  );
};
