// Bundles a Node entry point (TypeScript, with its workspace packages) into one ESM file with
// esbuild, for production runs and for benchmarks: the same code as `tsx` runs, without the
// on-the-fly transpiler in memory (~65 MB less RSS for the gateway, measured in docs/performance.md).
// Native modules stay external. Usage: node scripts/bundle.mjs <entry.ts> <out.mjs>
import { build } from 'esbuild';

/** The esbuild settings of every production bundle (also scripts/bundle-app.mjs, the deployed one). */
export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // sharp (the alerts' photo re-encoding) loads its platform's libvips package at run time.
  external: ['better-sqlite3', 'serialport', '@serialport/*', 'modbus-serial', 'sharp'],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __cnxCreateRequire } from 'node:module'; const require = __cnxCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

export async function bundle(entry, outfile) {
  await build({ ...nodeBundleOptions, entryPoints: [entry], outfile });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry, out] = process.argv.slice(2);
  if (!entry || !out) {
    console.error('usage: node scripts/bundle.mjs <entry.ts> <out.mjs>');
    process.exit(2);
  }
  await bundle(entry, out);
  console.log(`bundled ${entry} -> ${out}`);
}
