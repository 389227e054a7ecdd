/** Result type used across the repo instead of throwing for expected failures (docs/architecture.md house style 3). */
export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** An expected, user-facing failure with a stable code (see errors.ts) and the offending value. */
export interface DomainError {
  code: string;
  message: string;
  /** The bad value, where one exists, so logs and dead-letter messages can show it. */
  value?: unknown;
}
