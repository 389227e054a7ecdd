import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from './helpers';

/** Load shedding (API_MAX_EVENT_LOOP_DELAY_MS): past the delay, new requests get 503 `overloaded`. */
let t: TestApp;
beforeAll(async () => {
  t = await testApp({ API_MAX_EVENT_LOOP_DELAY_MS: '1' }, false);
});
afterAll(async () => {
  await t?.close();
});

describe('load shedding', () => {
  it('answers 503 overloaded with Retry-After while the event loop lags', async () => {
    let res = await t.app.inject({ url: '/v1/meta' });
    // Block the event loop until a request is shed (under-pressure samples the delay periodically).
    while (res.statusCode !== 503) {
      const until = Date.now() + 50;
      while (Date.now() < until) {
        // busy: the event loop cannot turn
      }
      await new Promise((r) => setImmediate(r));
      res = await t.app.inject({ url: '/v1/meta' });
    }
    expect(res.json().error.code).toBe('overloaded');
    expect(res.headers['retry-after']).toBe('10');
    // Health and metrics still answer (operators need them most now), in their own shapes.
    const health = await t.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json().status).toBe('ok');
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});
