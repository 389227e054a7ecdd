export { createMemoryBroker, type MemoryBroker, type MemoryMessage } from './memory.transport';
export { type MqttLinkConfig, mqttLinkFactory } from './mqtt.transport';
export type { DeviceLink, LinkFactory, LinkHandlers, LinkOptions, OutMessage } from './types';
