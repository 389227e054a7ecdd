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
  // HTTP push (airrohr / Sensor.Community firmware), docs/airrohr.md
  unregistered_sensor: 'Sensor is not registered for HTTP push',
  bad_sensor_header: 'X-Sensor or X-Pin header is missing or invalid',
  bad_credentials: 'Password (HTTP basic auth) is missing or wrong for this sensor',
  unsupported_media_type: 'Content-Type is not application/json',
  non_numeric_value: 'Value is not a decimal number',
} as const;

export type RejectReason = keyof typeof GATEWAY_ERRORS;
export const REJECT_REASONS = Object.keys(GATEWAY_ERRORS) as RejectReason[];

export interface Rejection {
  reason: RejectReason;
  message: string;
}
