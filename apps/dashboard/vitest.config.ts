import { mergeConfig } from 'vitest/config';
import { workspaceConfig } from '../../vitest.shared.ts';

// Unit tests of the plain TypeScript modules (i18n, format, bands, map projection and layout); no Svelte
// plugin. test-setup.ts puts the default city pack's time zone in effect, as the layout does.
export default mergeConfig(workspaceConfig(import.meta.url), {
  test: { include: ['src/**/*.test.ts'], setupFiles: ['src/lib/test-setup.ts'] },
});
