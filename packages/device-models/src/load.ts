import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAP_ID_PATTERN } from './schema';
import type { RegisterMap, RegisterMapIssue } from './types';
import { formatRegisterMapIssue, parseRegisterMap } from './validate';

/** The maps shipped with this package: packages/device-models/maps/<id>.json. */
export const MAPS_DIR = fileURLToPath(new URL('../maps', import.meta.url));

/** Thrown by loadRegisterMap: the message lists every problem; `issues` has them as data. */
export class RegisterMapError extends Error {
  override readonly name = 'RegisterMapError';
  constructor(
    readonly mapId: string,
    readonly file: string,
    readonly issues: RegisterMapIssue[],
  ) {
    super(`register map "${mapId}" (${file}) is invalid:\n  ${issues.map(formatRegisterMapIssue).join('\n  ')}`);
  }
}

/**
 * Read and validate maps/<id>.json (or <mapsDir>/<id>.json). Throws RegisterMapError listing every
 * problem: an unknown id, unreadable file, bad JSON, schema violations and the cross-field rules.
 */
export function loadRegisterMap(id: string, mapsDir: string = MAPS_DIR): RegisterMap {
  const file = path.join(mapsDir, `${id}.json`);
  if (!MAP_ID_PATTERN.test(id)) {
    throw new RegisterMapError(id, file, [
      { path: '', message: `not a map id (/${MAP_ID_PATTERN.source}/)`, value: id },
    ]);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const known = registerMapIds(mapsDir);
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `no such register map (known: ${known.join(', ') || 'none'})`
        : `cannot read: ${(e as Error).message}`;
    throw new RegisterMapError(id, file, [{ path: '', message }]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RegisterMapError(id, file, [{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  const r = parseRegisterMap(doc, id);
  if (!r.ok) throw new RegisterMapError(id, file, r.error);
  return r.value;
}

/** Ids of the maps in the folder (file names without .json), sorted. */
export function registerMapIds(mapsDir: string = MAPS_DIR): string[] {
  try {
    return readdirSync(mapsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Every map of the folder, validated (throws on the first invalid file, listing all its problems). */
export function registerMaps(mapsDir: string = MAPS_DIR): RegisterMap[] {
  return registerMapIds(mapsDir).map((id) => loadRegisterMap(id, mapsDir));
}
