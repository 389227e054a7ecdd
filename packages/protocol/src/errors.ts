/**
 * Error catalogue for device payloads (docs/architecture.md house style 6). Codes are stable: they appear as
 * the `reason` of dead-letter messages and as the `reason` label of the gateway's rejection metrics.
 */
export const PAYLOAD_ERRORS = {
  payload_too_large: 'Payload exceeds the maximum size',
  malformed_json: 'Payload is not valid JSON',
  schema_violation: 'Payload does not match the telemetry schema',
  bad_timestamp: 'Timestamp is missing or not a valid time',
  unit_mismatch: 'Unit is not the canonical unit of the metric',
  impossible_value: 'Value is physically impossible for the metric',
  no_values: 'Payload carries no known metric values',
  senml_invalid: 'SenML pack is invalid (RFC 8428)',
} as const;

export type PayloadErrorCode = keyof typeof PAYLOAD_ERRORS;

export interface PayloadError {
  code: PayloadErrorCode;
  message: string;
  value?: unknown;
}

export const payloadError = (code: PayloadErrorCode, detail: string, value?: unknown): PayloadError => ({
  code,
  message: `${PAYLOAD_ERRORS[code]}: ${detail}`,
  value,
});
