export * from './airrohr.config';
export * from './airrohr.format';
export * from './airrohr.metrics';
export * from './airrohr.plugin';
export * from './airrohr.registry';
export * from './airrohr.schemas';
