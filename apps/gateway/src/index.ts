export * from './config';
export * from './errors';
export * from './gateway';
export * from './modbus';
