export * from './result';
export * from './metrics';
export * from './types';
export * from './qc/flags';
