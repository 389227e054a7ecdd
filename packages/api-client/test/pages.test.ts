import { describe, expect, it } from 'vitest';
import { allPages } from '../src/client';

/** A list of `found` items served `limit` at a time, as the API pages /v1/stations and /v1/latest. */
const server = (found: number, limit: number) => {
  const asked: number[] = [];
  const fetchPage = async (page: number) => {
    asked.push(page);
    const data = Array.from({ length: found }, (_, i) => i).slice((page - 1) * limit, page * limit);
    return { meta: { found, count: data.length, limit, page }, data };
  };
  return { asked, fetchPage };
};

describe('allPages', () => {
  it('follows the pages until meta.found items are in', async () => {
    const s = server(2503, 1000);
    const all = await allPages(s.fetchPage);
    expect(s.asked).toEqual([1, 2, 3]);
    expect(all.data).toEqual(Array.from({ length: 2503 }, (_, i) => i));
    expect(all.meta).toMatchObject({ found: 2503, count: 2503 });
  });

  it('asks once when one page holds everything, and stops on an empty page', async () => {
    const one = server(27, 1000);
    expect((await allPages(one.fetchPage)).data).toHaveLength(27);
    expect(one.asked).toEqual([1]);
    const shrunk = await allPages(async (page) => ({
      meta: { found: 5, count: page === 1 ? 2 : 0, limit: 2, page },
      data: page === 1 ? [1, 2] : [],
    }));
    expect(shrunk.data).toEqual([1, 2]);
  });
});
