/**
 * @cnx/api-client: the typed client of the cnx-sense open-data API (browsers and Node ≥ 20; fetch only).
 * The types are generated from the API's OpenAPI document (src/generated/openapi.ts).
 */
export { CnxApiClient, createClient } from './client';
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
export { queryString } from './request';
export { type SseEvent, SseParser } from './sse';
export type {
  ApiResponse,
  CallOptions,
  ClientOptions,
  ExportQuery,
  LatestQuery,
  OperationId,
  PageQuery,
  QueryInput,
  ReadingsQuery,
  ReportsQuery,
  RequestOptions,
  RollupExportQuery,
  SeriesQuery,
  StationsQuery,
  StreamQuery,
} from './types';
