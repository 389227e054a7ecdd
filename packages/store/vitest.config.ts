import { defineConfig } from 'vitest/config';

// Integration tests start real influxd / mosquitto processes: generous timeouts, never fixed sleeps.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
