import { TH_PM25_24H_STANDARD, WHO_2021_PM25_24H } from '@cnx/domain';
import { redirect } from '@sveltejs/kit';
import { RANGES, rangeFrom, spanOf, toColumns } from '$lib/series';
import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, url, depends }) => {
  depends('cnx:now');
  const client = api();
  const latest = await fromApi(client.getStationLatest(params.id));
  if (latest.station.kind === 'canal') redirect(303, `/canal#${encodeURIComponent(params.id)}`);
  const range = rangeFrom(url.searchParams.get('range'));
  const { hours, interval } = RANGES[range];
  const to = new Date(Math.ceil(Date.now() / 300_000) * 300_000);
  const from = new Date(to.getTime() - hours * 3_600_000);
  // Raw with every reading (QC flags visible), corrected with flagged readings left out (the API default).
  const [corrected, raw] = await fromApi(
    Promise.all([
      client.getStationSeries(params.id, { metric: 'pm25_corrected', interval, from, to }).catch(() => null),
      client.getStationSeries(params.id, { metric: 'pm25', interval, from, to, qc: 'include' }),
    ]),
  );
  return {
    latest,
    range,
    trend: toColumns(corrected, raw),
    // The range asked for and its bucket length: the chart's x axis spans it, with gaps where the API
    // returned no bucket.
    span: spanOf(range, to),
    lines: { thai: TH_PM25_24H_STANDARD, who: WHO_2021_PM25_24H.aqg },
  };
};
