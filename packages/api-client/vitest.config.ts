import { workspaceConfig } from '../../vitest.shared.ts';

export default workspaceConfig(import.meta.url, { testTimeout: 60_000 });
