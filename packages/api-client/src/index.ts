/**
 * @cnx/api-client: the typed client of the cnx-sense open-data API (browsers and Node ≥ 20; fetch only).
 * The types are generated from the API's OpenAPI document (src/generated/openapi.ts).
 */
export {
  type ApiResponse,
  type CallOptions,
  type ClientOptions,
  CnxApiClient,
  createClient,
  type ExportQuery,
  type LatestQuery,
  type OperationId,
  type QueryInput,
  queryString,
  type ReadingsQuery,
  type RequestOptions,
  type SeriesQuery,
  type StationsQuery,
  type StreamQuery,
} from './client';
export { ApiError, type ApiErrorCode, type ClientErrorCode, isApiError } from './errors';
export type * from './generated/openapi';
export { operationRoutes } from './generated/openapi';
export type {
  EventSourceConstructor,
  EventSourceLike,
  LiveHandlers,
  LiveOptions,
  LiveSubscription,
} from './live';
export { type SseEvent, SseParser } from './sse';
