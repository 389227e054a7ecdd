export * from './gateway-process';
export * from './influx';
export * from './stack';
