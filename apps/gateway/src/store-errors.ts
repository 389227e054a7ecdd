import { STORE_ERROR_CODES } from '@cnx/store';

/**
 * The store errors that condemn the readings themselves: the store will never take them as they
 * are (HTTP 400: a field-type conflict, a parse error, points beyond retention; an invalid id or
 * value; HTTP 413 for a single reading). Only these send readings to quarantine, and only once a
 * batch was split down to the readings refused. Every other error (the store not started, not
 * reachable, failing, rate limiting, refusing our credentials, missing its database, a read-only or
 * invalid configuration, an unknown error) says nothing about the data: the batch is kept and retried.
 */
const REFUSES_READINGS: ReadonlySet<unknown> = new Set([
  STORE_ERROR_CODES.rejected,
  STORE_ERROR_CODES.invalidReading,
  STORE_ERROR_CODES.tooLarge,
]);

/** Whether `error` says the store refuses the readings written (see REFUSES_READINGS). */
export const refusesReadings = (error: unknown): boolean =>
  REFUSES_READINGS.has((error as { code?: unknown } | undefined)?.code);
