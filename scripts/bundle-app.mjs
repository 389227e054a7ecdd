// Production bundle of one Node app (gateway, api, alerts): `npm run build -w @cnx/<app>`; the
// dashboard: `npm run bundle -w @cnx/dashboard` after its `vite build`.
//
// The apps run TypeScript with tsx in development ("just-in-time packages", docs/architecture.md);
// a deployment runs one self-contained folder instead, `apps/<app>/dist/`:
//   main.mjs (+ .map)        the app and every pure-JS dependency, bundled by esbuild (ESM, node20);
//                            the gateway also quarantine.mjs and influx-init.mjs, its CLI tools
//   node_modules/            the modules kept external (scripts/bundle.mjs: better-sqlite3, serialport,
//                            modbus-serial, sharp)
//                            and what they load at run time, copied from the installed tree
//   root/cities, root/packages/device-models/maps
//                            the data files the code finds relative to its own source file
// Start it with `node dist/main.mjs` (the app's `npm start`) or `node .` inside it (dist/package.json
// names the entry); the folder can be copied anywhere (infra/docker/Dockerfile copies it alone into
// the runtime image). The dashboard's dist/ is adapter-node's build/ (index.js) plus the packages
// its server imports (cookie, d3-geo, ...) and cities/, which it finds above its working directory.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { nodeBundleOptions } from './bundle.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = process.argv[2];
if (!app || !['gateway', 'api', 'alerts', 'dashboard'].includes(app)) {
  console.error('usage: node scripts/bundle-app.mjs gateway|api|alerts|dashboard');
  process.exit(2);
}
const appDir = path.join(repoRoot, 'apps', app);
const dist = path.join(appDir, 'dist');

// Kept out of the bundle (native addons and what loads them, scripts/bundle.mjs): copied with
// their dependencies into dist/node_modules.
const NATIVE = nodeBundleOptions.external;
// Runtime dependencies of those that are only used at install time (fetching prebuilt binaries).
const INSTALL_ONLY = new Set(['prebuild-install']);
// Data directories found through `new URL(<relative>, import.meta.url)` in workspace sources.
const ASSETS = ['cities', 'packages/device-models/maps'];

/**
 * Workspace sources that locate files relative to themselves (`new URL('../../../cities',
 * import.meta.url)`) would resolve against the bundle's location once bundled. Each such
 * `import.meta.url` becomes the URL the file has under `dist/root/`, where ASSETS are copied, so
 * the relative paths keep their meaning wherever the folder is.
 */
const metaUrlPlugin = {
  name: 'workspace-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const pattern = /new URL\(('[^']+'|"[^"]+"), import\.meta\.url\)/g;
      if (!pattern.test(text)) return undefined;
      const rel = path.relative(repoRoot, args.path).split(path.sep).join('/');
      const here = `new URL(${JSON.stringify(`./root/${rel}`)}, import.meta.url)`;
      return { contents: text.replace(pattern, (_m, spec) => `new URL(${spec}, ${here})`), loader: 'ts' };
    });
  },
};

/** esbuild bundle of a Node app; returns the bare (non-built-in) imports it left external. */
async function bundleNodeApp() {
  const result = await esbuild.build({
    ...nodeBundleOptions,
    entryPoints: {
      main: path.join(appDir, 'src/main.ts'),
      // The gateway's quarantine replay tool (apps/gateway/README.md), for hosts without the sources.
      // and its InfluxDB 2.x init step (bucket + DBRP mapping).
      ...(app === 'gateway'
        ? {
            quarantine: path.join(appDir, 'src/cli/quarantine.ts'),
            'influx-init': path.join(appDir, 'src/cli/influx-init.ts'),
          }
        : {}),
    },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    target: 'node20.19',
    metafile: true,
    plugins: [metaUrlPlugin],
  });

  const imported = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports ?? [])
      if (imp.external && !imp.path.startsWith('node:') && !isBuiltin(imp.path)) imported.add(imp.path);
  }
  for (const asset of ASSETS) cpSync(path.join(repoRoot, asset), path.join(dist, 'root', asset), { recursive: true });
  return imported;
}

/** adapter-node's build/ as it is, with the city packs; returns the bare imports of its server code. */
function packageDashboard() {
  const build = path.join(appDir, 'build');
  if (!existsSync(path.join(build, 'index.js')))
    throw new Error('bundle-app: run `npm run build -w @cnx/dashboard` first');
  cpSync(build, dist, { recursive: true });
  cpSync(path.join(repoRoot, 'cities'), path.join(dist, 'cities'), { recursive: true });
  const imported = new Set();
  const importRe = /^(?:import|export)\s[^;]*?from\s*['"]([^'"./#][^'"]*)['"]|^import\s*['"]([^'"./#][^'"]*)['"]/gm;
  for (const file of readdirSync(dist, { recursive: true })) {
    if (!String(file).endsWith('.js') || String(file).startsWith('client')) continue;
    for (const m of readFileSync(path.join(dist, String(file)), 'utf8').matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('node:') && !isBuiltin(spec)) imported.add(spec);
    }
  }
  return imported;
}

const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** The installed package directory of `name` as Node resolves it from `fromDir`. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

// Copy each native module and its runtime dependencies, flat, into dist/node_modules.
const copied = new Map();
function copyPackage(name, fromDir, optional) {
  if (INSTALL_ONLY.has(name) || copied.has(name)) return;
  const dir = findPackage(name, fromDir);
  if (!dir) {
    if (optional) return;
    throw new Error(`bundle-app: ${name} (needed at run time) is not installed; run npm ci`);
  }
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  copied.set(name, pkg.version);
  const nativeBuild = existsSync(path.join(dir, 'binding.gyp'));
  cpSync(dir, path.join(dist, 'node_modules', name), {
    recursive: true,
    dereference: true,
    // A source-built addon carries its C sources and object files: only the .node file is needed.
    filter: (src) => {
      if (!nativeBuild) return true;
      const rel = path.relative(dir, src).split(path.sep).join('/');
      return !/^(deps|src)(\/|$)|\/obj(\.target)?(\/|$)|\.a$|(^|\/)test_extension\.node$/.test(rel);
    },
  });
  for (const dep of Object.keys(pkg.dependencies ?? {})) copyPackage(dep, dir, false);
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) copyPackage(dep, dir, true);
}
// Other external imports are esbuild's: a require() inside try/catch it could not resolve (ws's
// optional `bufferutil`); copied when installed, else the dependency runs without it, as it would.
const isNative = (name) => NATIVE.some((n) => (n.endsWith('/*') ? name.startsWith(n.slice(0, -1)) : name === n));
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const imported = app === 'dashboard' ? packageDashboard() : await bundleNodeApp();
// The dashboard's server imports are its package.json dependencies that Vite left external.
for (const spec of imported)
  copyPackage(packageName(spec), appDir, app !== 'dashboard' && !isNative(packageName(spec)));
// "main" is the entry, so `node .` in dist/ starts any app (the image's CMD, infra/docker/Dockerfile).
const main = app === 'dashboard' ? 'index.js' : 'main.mjs';
writeFileSync(
  path.join(dist, 'package.json'),
  `${JSON.stringify({ name: `cnx-${app}-bundle`, private: true, type: 'module', main, dependencies: Object.fromEntries(copied) }, null, 2)}\n`,
);
console.log(`[bundle] apps/${app}/dist; node_modules: ${[...copied.keys()].join(', ') || 'none'}`);
