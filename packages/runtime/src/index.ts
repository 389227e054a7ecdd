export * from './logger';
export * from './env';
export * from './lifecycle';
