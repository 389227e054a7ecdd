export * from './loadgen';
export * from './measure';
export * from './raw-publisher';
