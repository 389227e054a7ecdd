import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const repoRoot = path.dirname(fileURLToPath(import.meta.url));

/**
 * Shared vitest settings for every workspace: the default console reporter plus a JSON report in
 * <repo>/test-results/<workspace>.json, which scripts/test-summary.mjs adds up into one line.
 * `integration: true` raises timeouts for suites that start real services (Mosquitto, InfluxDB).
 */
export function workspaceConfig(configUrl: string, extra: ViteUserConfig['test'] = {}): ViteUserConfig {
  const dir = path.dirname(fileURLToPath(configUrl));
  const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name as string).replace(/^@cnx\//, '');
  return defineConfig({
    test: {
      reporters: ['default', 'json'],
      outputFile: { json: path.join(repoRoot, 'test-results', `${name}.json`) },
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...extra,
    },
  });
}
