export * from './engine';
export * from './signals';
export * from './text';
export * from './types';
