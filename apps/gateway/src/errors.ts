import { PAYLOAD_ERRORS } from '@cnx/protocol';

/**
 * The gateway's error catalogue: the payload errors from @cnx/protocol plus the gateway's own.
 * Every rejection carries one of these stable codes (dead-letter `reason`, metric label `reason`).
 */
export const GATEWAY_ERRORS = {
  ...PAYLOAD_ERRORS,
  bad_topic: 'Topic is not a telemetry topic of this city',
  unknown_device: 'Device is not registered in the city pack',
  invalid_utf8: 'Payload is not valid UTF-8',
} as const;

export type RejectReason = keyof typeof GATEWAY_ERRORS;
export const REJECT_REASONS = Object.keys(GATEWAY_ERRORS) as RejectReason[];

export interface Rejection {
  reason: RejectReason;
  message: string;
}
