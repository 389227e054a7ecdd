/** Gathers every error and warning of a city pack before the loader answers. */
import type {
  CityPackError,
  CityPackErrorCode,
  CityPackFileName,
  CityPackWarning,
  CityPackWarningCode,
} from './errors';

export class Collector {
  readonly errors: CityPackError[] = [];
  readonly warnings: CityPackWarning[] = [];

  error(code: CityPackErrorCode, file: CityPackFileName, path: string, message: string, value?: unknown): void {
    this.errors.push(value === undefined ? { code, file, path, message } : { code, file, path, message, value });
  }

  warn(code: CityPackWarningCode, file: CityPackFileName, path: string, message: string, value?: unknown): void {
    this.warnings.push(value === undefined ? { code, file, path, message } : { code, file, path, message, value });
  }

  /** Reports the second and later uses of an id (the item is still checked for other problems). */
  unique(seen: Map<string, string>, file: CityPackFileName, id: unknown, path: string): void {
    if (typeof id !== 'string') return;
    const first = seen.get(id);
    if (first !== undefined)
      this.error('duplicate_id', file, path, `duplicate id "${id}" (first used at ${first})`, id);
    else seen.set(id, path);
  }
}
