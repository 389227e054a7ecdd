import { mergeConfig } from 'vitest/config';
import { workspaceConfig } from '../../vitest.shared.ts';

// Unit tests of the plain TypeScript modules (i18n, format, bands, map projection); no Svelte plugin.
export default mergeConfig(workspaceConfig(import.meta.url), { test: { include: ['src/**/*.test.ts'] } });
