export * from './errors';
export * from './payloads';
export * from './schemas';
export * from './telemetry';
export * from './topics';
