export { API_VERSION, type ApiServices, type AppDeps, buildApp } from './app';
export { type ApiConfig, type ApiLimits, type ApiStoreConfig, loadApiConfig, redactedConfig } from './config';
export { API_ERROR_CODES, API_ERRORS, ApiError, type ApiErrorCode, type ProblemDetail } from './errors';
export * as schemas from './schemas';
export { ApiServer } from './server';
export { BusService, type LiveEvent, type LiveListener, type LiveSource } from './services/bus.service';
