import { isUtf8 } from 'node:buffer';
import { type DeadLetterPayload, isValidId, topics } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { GATEWAY_ERRORS } from '../errors';
import type { GatewayStats } from '../metrics';
import type { BusPublisher } from './republisher';
import type { Rejection } from './step';

/** Dead letters echo at most this much of the rejected payload. */
const DEADLETTER_ECHO_BYTES = 2048;

/** Where a refused message came from. */
export interface RejectedMessage {
  deviceId: string;
  /** The message as received (the rejection's `echo` instead, when it has one). */
  payload: Buffer;
  receivedAt: number;
  /** The MQTT topic, or the transport's source (`modbus-tcp://canal-lan/1`, `http://…/push/airrohr`). */
  topic: string;
}

/**
 * Refused messages: counted by reason, logged at debug (a broken device can be noisy) and published
 * on `cnx/v1/{city}/deadletter/{device}` (DeadLetterSchema in @cnx/protocol) with the reason, the
 * message and the first 2 KB of the payload. Never throws: a refusal must not stop intake.
 */
export class DeadLetters {
  constructor(
    private readonly city: string,
    private readonly bus: BusPublisher,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
  ) {}

  publish(rejection: Rejection, from: RejectedMessage): void {
    const { reason, detail } = rejection;
    this.stats.reject(reason);
    const message = detail.startsWith(GATEWAY_ERRORS[reason]) ? detail : `${GATEWAY_ERRORS[reason]}: ${detail}`;
    this.logger.debug({ reason, device: from.deviceId, topic: from.topic, detail: message }, 'message rejected');
    const payload = rejection.echo ?? from.payload;
    const truncated = payload.length > DEADLETTER_ECHO_BYTES;
    const echo = truncated ? payload.subarray(0, DEADLETTER_ECHO_BYTES) : payload;
    const utf8 = isUtf8(echo);
    const dl: DeadLetterPayload = {
      v: 1,
      reason,
      message,
      topic: from.topic,
      receivedAt: from.receivedAt,
      payload: utf8 ? echo.toString('utf8') : echo.toString('base64'),
      encoding: utf8 ? 'utf8' : 'base64',
      truncated,
    };
    const safeId = isValidId(from.deviceId) ? from.deviceId : 'invalid-device-id';
    this.bus.publish(topics.deadletter(this.city, safeId), JSON.stringify(dl));
  }
}
