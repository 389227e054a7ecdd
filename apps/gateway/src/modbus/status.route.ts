import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ModbusStatusReport } from './poller.service';

export interface ModbusStatusSource {
  status(): ModbusStatusReport;
}

/**
 * Operator endpoints for the Modbus poller:
 *   GET /modbus/status           every bus (connected, queue depth) and every device's health
 *   GET /modbus/status/:device   one device's health (404 if it is not polled)
 */
export function registerModbusStatusRoutes(app: FastifyInstance, source: ModbusStatusSource): void {
  app.get('/modbus/status', { logLevel: 'warn' }, async () => source.status());
  app.get<{ Params: { device: string } }>('/modbus/status/:device', { logLevel: 'warn' }, async (req, reply) => {
    const device = source.status().devices.find((d) => d.device === req.params.device);
    if (!device)
      return reply.code(404).send({ error: 'not_found', message: `device ${req.params.device} is not polled` });
    return device;
  });
}

/** The same routes as a Fastify plugin: `app.register(modbusStatusPlugin, { source: poller })`. */
export const modbusStatusPlugin: FastifyPluginAsync<{ source: ModbusStatusSource }> = async (app, opts) => {
  registerModbusStatusRoutes(app, opts.source);
};
