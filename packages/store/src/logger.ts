/** The logging surface the store needs: pino's (an object first, a short constant message). */
export interface StoreLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => {};
export const silentLogger: StoreLogger = { debug: noop, info: noop, warn: noop, error: noop };
