/**
 * The repository's documentation stays true to the tree (issue 11): every relative link in a Markdown
 * file (README.md, docs/*.md, and every app's and package's README) points at a file or folder that
 * exists, and a `#fragment` at a heading (GitHub's anchor of it) or an explicit `<a id>` in the target.
 * External links (http:, https:, mailto:) are not fetched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.turbo',
  '.svelte-kit',
  'build',
  'dist',
  'test-results',
  'results',
]);

/** The Markdown files the test covers: README.md, docs/*.md and the README of every folder. */
function markdownFiles(): string[] {
  const out = [path.join(ROOT, 'README.md')];
  const docs = path.join(ROOT, 'docs');
  for (const f of readdirSync(docs)) if (f.endsWith('.md')) out.push(path.join(docs, f));
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(path.join(dir, e.name));
      else if (e.isFile() && e.name === 'README.md' && dir !== ROOT) out.push(path.join(dir, e.name));
    }
  };
  walk(ROOT);
  return out;
}

/** The text outside fenced code blocks and inline code spans (links there are examples, not links). */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** Relative link targets: inline links `[text](target "title")` and definitions `[ref]: target`. */
export function linkTargets(md: string): string[] {
  const text = prose(md);
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)) out.push(m[1] as string);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/gm)) out.push(m[1] as string);
  return out.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens (github-slugger). */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings (duplicates get -1, -2, …) and <a id|name>. */
export function anchors(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of md.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1] as string);
  return out;
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('2. What a device must do')).toBe('2-what-a-device-must-do');
    expect(slug('`stuck`')).toBe('stuck');
    expect(slug('Driving your own devices against `npm start`')).toBe('driving-your-own-devices-against-npm-start');
    expect(slug('PM2.5 correction')).toBe('pm25-correction');
    expect(slug('Now and official: the [AQI](x.md)')).toBe('now-and-official-the-aqi');
    expect([...anchors('# A\n## A\n```\n# not\n```\n<a id="x"></a>')]).toEqual(['a', 'a-1', 'x']);
    expect(linkTargets('[a](b.md#c) `[x](y.md)` [e](https://e.org)\n[r]: ../r.md\n```\n[z](z.md)\n```')).toEqual([
      'b.md#c',
      '../r.md',
    ]);
  });

  it('every relative link in README.md, docs/*.md and the READMEs resolves (file, and heading if given)', () => {
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(10);
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const md = readFileSync(file, 'utf8');
      for (const target of linkTargets(md)) {
        checked++;
        const [rawPath = '', fragment] = target.split('#', 2);
        const filePath = decodeURIComponent(rawPath);
        const resolved = filePath === '' ? file : path.resolve(path.dirname(file), filePath);
        const where = `${path.relative(ROOT, file)}: ${target}`;
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (fragment && statSync(resolved).isFile() && resolved.endsWith('.md')) {
          if (!anchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment).toLowerCase()))
            broken.push(`${where} (no heading #${fragment})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});
