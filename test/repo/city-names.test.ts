/**
 * No app file names a city (issue 12: "another city is another folder of data"). Every name a city pack
 * gives (its id, the city's and the authority's names, its districts, waterways and stations, the name
 * of its water page) is searched for in the source of the apps, the packages, the device simulator and
 * the start script; tests and documentation may name cities. The one allowed mention is the default
 * city id in @cnx/city-pack (DEFAULT_CITY_ID).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CODE = /\.(ts|mts|js|mjs|svelte|json|html|css)$/;
const SKIP_DIRS = new Set(['node_modules', '.svelte-kit', 'build', 'dist', '.turbo', 'test', 'results']);
/** Test files and test support may name cities. */
const TEST_FILE = /(\.(test|spec)\.ts|^test-(setup|packs)\.ts)$/;
/** Generated from the API document, whose examples are ids of the city pack in effect (the default). */
const GENERATED = /\/src\/generated\//;
/** file (from the root) -> the one line there that may name a city. */
const ALLOWED: Record<string, RegExp> = {
  'packages/city-pack/src/load.ts': /^export const DEFAULT_CITY_ID = '[a-z0-9-]+';$/,
};

/** The app source folders: apps/x/src, packages/x/src and scripts, firmware-sim/src, scripts/. */
function sourceRoots(): string[] {
  const roots = ['firmware-sim/src', 'scripts'];
  for (const group of ['apps', 'packages']) {
    for (const e of readdirSync(path.join(ROOT, group), { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      for (const sub of ['src', 'scripts', 'maps']) roots.push(`${group}/${e.name}/${sub}`);
    }
  }
  return roots;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(path.join(ROOT, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(p);
      else if (e.isFile() && CODE.test(e.name) && !TEST_FILE.test(e.name) && !GENERATED.test(p)) out.push(p);
    }
  };
  for (const r of sourceRoots()) walk(r);
  return out;
}

interface Named {
  word: string;
  what: string;
}

/** The names each city pack gives, with the waterway names also without their kind word ("Wang"). */
function cityNames(): Named[] {
  const out: Named[] = [];
  const add = (word: string | undefined, what: string) => {
    if (word && word.trim().length >= 3) out.push({ word: word.trim(), what });
  };
  const dir = path.join(ROOT, 'cities');
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const read = (f: string) => JSON.parse(readFileSync(path.join(dir, e.name, f), 'utf8'));
    const city = read('city.json');
    add(city.id, `${e.name} id`);
    for (const l of ['th', 'en']) {
      add(city.name[l], `${e.name} name`);
      add(city.authority?.[l], `${e.name} authority`);
      add(city.waterwayPage?.name[l], `${e.name} water page`);
    }
    for (const f of read('districts.geojson').features) {
      add(f.properties.name_th, `${e.name} district`);
      add(f.properties.name_en, `${e.name} district`);
    }
    for (const f of read('waterways.geojson').features) {
      for (const name of [f.properties.name_th, f.properties.name_en]) {
        add(name, `${e.name} waterway`);
        const bare = String(name)
          .replace(/^(คลอง|แม่น้ำ|คูเมือง)/, '')
          .replace(/\s+(canal|river|moat|city moat)$/i, '')
          .trim();
        if (bare !== name && bare.length >= 4) add(bare, `${e.name} waterway`);
      }
    }
    for (const s of read('stations.json').stations) {
      add(s.id, `${e.name} station id`);
      add(s.name.th, `${e.name} station`);
      add(s.name.en, `${e.name} station`);
    }
  }
  return out;
}

const escapeRe = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Latin names match as whole words, case-sensitively for capitalised ones (a "Wang" is not "wanger"). */
const pattern = (w: string) =>
  /^[\x20-\x7e]+$/.test(w) ? new RegExp(`(?<![A-Za-z0-9-])${escapeRe(w)}(?![A-Za-z0-9])`) : new RegExp(escapeRe(w));

describe('no app file names a city', () => {
  const names = cityNames();
  const files = sourceFiles();

  it('knows the names of at least two cities and reads the app sources', () => {
    expect(new Set(names.map((n) => n.what.split(' ')[0])).size).toBeGreaterThanOrEqual(2);
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('apps/dashboard/src/lib/i18n.ts');
  });

  it('finds none of them in the apps, packages, simulator or start script', () => {
    const found: string[] = [];
    const regexes = names.map((n) => ({ ...n, re: pattern(n.word) }));
    for (const f of files) {
      const lines = readFileSync(path.join(ROOT, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (ALLOWED[f]?.test(line.trim())) return;
        for (const n of regexes) if (n.re.test(line)) found.push(`${f}:${i + 1} names "${n.word}" (${n.what})`);
      });
    }
    expect(found, found.join('\n')).toEqual([]);
  });

  it('catches a city name where one is written (control)', () => {
    const [n] = names;
    expect(pattern(n!.word).test(`const label = '${n!.word}';`)).toBe(true);
    expect(pattern('Wang').test('a wanger')).toBe(false);
  });
});
