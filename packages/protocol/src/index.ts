export * from './alerts';
export * from './bus';
export * from './errors';
export * from './normalized-json';
export * from './payloads';
export * from './schemas';
export * from './telemetry';
export * from './topics';
