import { describe, expect, it } from 'vitest';
import { loadAirrohrConfig } from '../../src/http-push/airrohr.config';

describe('loadAirrohrConfig', () => {
  it('is off by default, with defaults for everything else', () => {
    expect(loadAirrohrConfig({})).toEqual({
      enabled: false,
      path: '/push/airrohr',
      maxBodyBytes: 16384,
      dedupeWindowMs: 60_000,
      registerInfo: expect.stringContaining('operator'),
      retryAfterSeconds: 60,
    });
  });

  it('is on when a registry is configured', () => {
    const c = loadAirrohrConfig({
      GATEWAY_AIRROHR_REGISTRY: '/etc/cnx/airrohr.json',
      GATEWAY_AIRROHR_PATH: '/data.php',
      GATEWAY_AIRROHR_MAX_BODY_BYTES: '4096',
      GATEWAY_AIRROHR_DEDUPE_S: '0',
      GATEWAY_AIRROHR_REGISTER_INFO: 'Register at https://cnx.example/airrohr',
    });
    expect(c).toMatchObject({
      enabled: true,
      registryPath: '/etc/cnx/airrohr.json',
      path: '/data.php',
      maxBodyBytes: 4096,
      dedupeWindowMs: 0,
      registerInfo: 'Register at https://cnx.example/airrohr',
    });
  });

  it('lists every bad setting', () => {
    expect(() =>
      loadAirrohrConfig({
        GATEWAY_AIRROHR_PATH: 'push airrohr',
        GATEWAY_AIRROHR_MAX_BODY_BYTES: '10',
        GATEWAY_AIRROHR_DEDUPE_S: '-1',
      }),
    ).toThrow(/GATEWAY_AIRROHR_PATH[\s\S]*GATEWAY_AIRROHR_MAX_BODY_BYTES[\s\S]*GATEWAY_AIRROHR_DEDUPE_S/);
  });
});
