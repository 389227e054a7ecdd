import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';

/** The 503 sent while the process is overloaded, in the catalogue's shape. */
class OverloadedError extends ApiError {
  constructor() {
    super('overloaded', 'the server is overloaded; retry shortly', undefined, { 'retry-after': '10' });
  }
}

/**
 * Load shedding: past these bounds new requests get 503 `overloaded` instead of queueing until they
 * time out. An event-loop delay of 1 s means every request already waits that long.
 */
export const pressurePlugin = fp(async (app: FastifyInstance, opts: { maxEventLoopDelayMs: number }) => {
  await app.register(underPressure, {
    // 0 switches the check off (under-pressure's own convention).
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    maxHeapUsedBytes: 1.5 * 1024 ** 3,
    retryAfter: 10,
    customError: OverloadedError,
    exposeStatusRoute: false,
  });
});
