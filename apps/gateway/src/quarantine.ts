import * as fs from 'node:fs';
import path from 'node:path';
import { fsyncDirSync } from './spool/segment-files';

/** Quarantine files are `<dir>/quarantine-<UTC date>.ndjson`: spool lines, one reading a line. */
export const QUARANTINE_PREFIX = 'quarantine-';

/**
 * Where the writer keeps readings the store refuses as invalid (never dropped silently; replay them
 * with `npm run -w @cnx/gateway quarantine -- replay <file>` once the cause is fixed). An append is
 * all or nothing and durable before it returns: the writer advances the spool past the readings
 * only after this, so a failed write (disk full, permissions) is cut back off and thrown; the writer
 * backs off and tries again, and the readings stay in the spool meanwhile.
 */
export class QuarantineFiles {
  constructor(private readonly dir: string) {}

  /** The file today's quarantined readings go to. */
  fileFor(now = Date.now()): string {
    return path.join(this.dir, `${QUARANTINE_PREFIX}${new Date(now).toISOString().slice(0, 10)}.ndjson`);
  }

  /** Append `records` (spool lines) and fsync; returns the file. Throws (leaving the file as it was) on failure. */
  append(records: readonly string[], now = Date.now()): string {
    const file = this.fileFor(now);
    const created = !fs.existsSync(file);
    const fd = fs.openSync(file, 'a');
    let size = -1;
    try {
      size = fs.fstatSync(fd).size;
      const data = Buffer.from(`${records.join('\n')}\n`);
      for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
      fs.fdatasyncSync(fd);
    } catch (error) {
      // Never leave part of a record behind: the next attempt appends the whole batch again.
      if (size >= 0) {
        try {
          fs.ftruncateSync(fd, size);
        } catch {
          // A replay reports a torn line as unreadable; nothing is lost (the spool still has it).
        }
      }
      throw error;
    } finally {
      fs.closeSync(fd);
    }
    if (created) fsyncDirSync(this.dir);
    return file;
  }
}
