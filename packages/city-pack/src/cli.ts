/**
 * city-pack CLI.
 *
 *   tsx packages/city-pack/src/cli.ts validate cities/<city-id>    # a folder
 *   tsx packages/city-pack/src/cli.ts validate <city-id>           # a city id (see resolveCityDir)
 *   tsx packages/city-pack/src/cli.ts validate                     # every folder in the cities dir
 *
 * Prints a summary per pack, or every error; exit code 0 = valid, 1 = errors, 2 = usage.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatCityPackIssue } from './errors';
import { defaultCitiesDir, loadCityPack } from './load';
import { ID_PATTERN } from './schema';

export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = 'usage: city-pack validate [<city-folder> | <city-id>]... [--quiet]';

/** Folder for one argument: an existing path, else a city id inside the cities folder. */
function targetDir(arg: string, cwd: string): string {
  const asPath = path.resolve(cwd, arg);
  if (existsSync(asPath) || !ID_PATTERN.test(arg)) return asPath;
  return path.join(defaultCitiesDir(), arg);
}

function allCityDirs(): string[] {
  const root = defaultCitiesDir();
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => statSync(dir).isDirectory())
    .sort();
}

async function validateOne(dir: string, quiet: boolean, io: CliOutput, cwd: string): Promise<boolean> {
  const label = path.relative(cwd, dir) || '.';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.err(`${label}: not a folder`);
    return false;
  }
  const result = await loadCityPack(dir);
  if (!result.ok) {
    io.err(`${label}: ${result.error.length} error${result.error.length === 1 ? '' : 's'}`);
    for (const issue of result.error) io.err(`  ${formatCityPackIssue(issue)}`);
    return false;
  }
  const pack = result.value;
  const air = pack.stations.filter((s) => s.kind === 'air').length;
  const canal = pack.stations.length - air;
  io.out(
    `${label}: OK ${pack.city.id} (${pack.city.name.en} / ${pack.city.name.th}): ` +
      `${pack.stations.length} stations (${air} air, ${canal} canal), ${pack.devices.length} devices, ` +
      `${pack.districtById.size} districts, ${pack.waterways.features.length} waterways, ` +
      `${pack.warnings.length} warning${pack.warnings.length === 1 ? '' : 's'}`,
  );
  if (!quiet) for (const w of pack.warnings) io.out(`  warning: ${formatCityPackIssue(w)}`);
  return true;
}

export async function runCli(argv: readonly string[], io: CliOutput, cwd = process.cwd()): Promise<number> {
  const [command, ...rest] = argv;
  const quiet = rest.includes('--quiet');
  const targets = rest.filter((a) => a !== '--quiet');
  if (command !== 'validate' || targets.some((t) => t.startsWith('-'))) {
    io.err(USAGE);
    return 2;
  }
  const dirs = targets.length > 0 ? targets.map((t) => targetDir(t, cwd)) : allCityDirs();
  if (dirs.length === 0) {
    io.err(`no city packs found in ${defaultCitiesDir()}`);
    return 1;
  }
  let ok = true;
  for (const dir of dirs) ok = (await validateOne(dir, quiet, io, cwd)) && ok;
  return ok ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  // npm run sets INIT_CWD to where the user typed the command; paths are relative to that.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const io: CliOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };
  runCli(process.argv.slice(2), io, cwd).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
