export * from './topics';
export * from './payloads';
export * from './errors';
export * from './schemas';
export * from './telemetry';
