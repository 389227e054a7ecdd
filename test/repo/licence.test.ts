/**
 * The licences stay consistent (issue 15): the code's LICENSE file is the licence package.json
 * names, and the data licence stated beside it (DATA-LICENCE.md) is the one every city pack states.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

describe('licences', () => {
  it('LICENSE is the Apache License 2.0 that package.json names, and every workspace that names one agrees', () => {
    expect(JSON.parse(read('package.json')).license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]+END OF TERMS AND CONDITIONS/);
    const workspaces = ['apps', 'packages'].flatMap((d) => readdirSync(path.join(ROOT, d)).map((w) => `${d}/${w}`));
    for (const w of [...workspaces, 'firmware-sim', 'bench', 'test']) {
      let license: unknown;
      try {
        license = JSON.parse(read(`${w}/package.json`)).license;
      } catch {
        continue; // not a workspace
      }
      if (license !== undefined) expect(license, w).toBe('Apache-2.0');
    }
    expect(read('README.md')).toContain('[LICENSE](LICENSE)');
  });

  it('DATA-LICENCE.md states the licence every city pack states in its city.json', () => {
    const data = read('DATA-LICENCE.md');
    for (const city of readdirSync(path.join(ROOT, 'cities'), { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const pack = JSON.parse(read(`cities/${city.name}/city.json`));
      expect(pack.licence.id, city.name).toBe('CC-BY-4.0');
      for (const s of pack.sources ?? []) expect(s.licence, `${city.name}: ${s.files}`).toBe('CC-BY-4.0');
      expect(data).toContain(pack.name.en);
    }
    expect(data).toContain('CC-BY-4.0');
    expect(read('README.md')).toContain('[DATA-LICENCE.md](DATA-LICENCE.md)');
  });
});
