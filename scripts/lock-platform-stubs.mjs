// The npm registry this project's machines reach serves only the Linux builds of @biomejs/biome's
// and turbo's platform binaries, so `npm install` cannot record their macOS/Windows/Android/musl
// siblings in package-lock.json, and `npm ci` then refuses the lock ("Missing: ... from lock
// file"). This adds those optional siblings to the lock with their exact versions and os/cpu/libc,
// so `npm ci` accepts the lock and skips them on Linux as it would anyway. Run after `npm install`
// changes the lock: node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const PARENTS = ['node_modules/@biomejs/biome', 'node_modules/turbo'];
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const platformOf = (name) => {
  const os = /darwin/.test(name)
    ? 'darwin'
    : /win32|windows/.test(name)
      ? 'win32'
      : /android/.test(name)
        ? 'android'
        : 'linux';
  const cpu = /arm64/.test(name) ? 'arm64' : 'x64';
  const libc = /musl/.test(name) ? ['musl'] : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
};
let added = 0;
for (const parent of PARENTS) {
  const entry = lock.packages[parent];
  if (!entry?.optionalDependencies) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies)) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    lock.packages[key] = { version, dev: true, optional: true, ...platformOf(name) };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platform-stubs: added ${added} optional platform entries`);
