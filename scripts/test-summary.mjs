// Adds up every workspace's vitest JSON report (test-results/*.json) into one closing line.
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const dir = path.resolve('test-results');
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
for (const f of files) {
  const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if ((r.numFailedTestSuites ?? 0) > 0 && !r.numFailedTests) failed += r.numFailedTestSuites;
  for (const suite of r.testResults ?? []) {
    const where = `${f.replace(/\.json$/, '')}: ${path.basename(suite.name)}`;
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failedTests)
      failures.push({ where: `${where} > ${t.fullName ?? t.title}`, messages: t.failureMessages ?? [] });
    if (suite.status === 'failed' && failedTests.length === 0)
      failures.push({ where, messages: [suite.message ?? ''] });
  }
}

// Every workspace with a test script must have reported (a missing report would hide its tests).
const expected = JSON.parse(execSync('npm query .workspace --json', { encoding: 'utf8' }))
  .filter((w) => w.scripts?.test)
  .map((w) => w.name.replace(/^@cnx\//, ''));
const missing = expected.filter((n) => !files.includes(`${n}.json`));
console.log(
  `\n${files.length} of ${expected.length} workspaces reported${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
);
if (missing.length > 0) failed += missing.length;
// The failures again at the very end, so the tail of a long CI log says what broke and why.
for (const { where, messages } of failures) {
  console.log(`\nFAILED ${where}`);
  const text = stripVTControlCharacters(messages.join('\n'));
  console.log(
    text
      .split('\n')
      .slice(0, 12)
      .map((l) => `  ${l}`)
      .join('\n'),
  );
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (files.length === 0 || failed > 0 || skipped > 0) process.exit(1);
