/** See bundle.mjs. */
export function bundle(entry: string, outfile: string): Promise<void>;
/** esbuild options shared by the bundles. */
export const nodeBundleOptions: Record<string, unknown>;
