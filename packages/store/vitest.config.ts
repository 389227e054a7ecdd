import { workspaceConfig } from '../../vitest.shared.ts';

// Integration tests start real influxd / mosquitto processes: generous timeouts, never fixed sleeps.
export default workspaceConfig(import.meta.url, { include: ['test/**/*.test.ts'], testTimeout: 60_000 });
