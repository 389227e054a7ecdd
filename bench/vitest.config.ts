import { defineConfig } from 'vitest/config';

// The harness's own tests (not the benchmark): they start a real mosquitto / influxd, so timeouts are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
