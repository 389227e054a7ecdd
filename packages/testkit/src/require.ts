import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

// Debian installs daemons in sbin, which is not on a normal user's PATH.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Absolute path of an executable, looked up on PATH and in the sbin directories. Throws when it is
 * missing, naming exactly what to install: integration tests fail loudly, they never skip.
 */
export function requireBinary(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    `Required program '${name}' was not found on PATH or in ${EXTRA_DIRS.join(', ')}. ` +
      `Install it with: apt-get install -y ${debianPackage}`,
  );
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
