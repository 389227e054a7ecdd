import { join } from 'node:path';
import {
  type InfluxDBHandle,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import { GatewayProcess } from './gateway-process';

/** Mosquitto + InfluxDB + the gateway as a process, all on free loopback ports in a temp dir. */
export interface Stack {
  broker: MosquittoHandle;
  influx: InfluxDBHandle;
  gateway: GatewayProcess;
  dir: string;
  stop(): Promise<void>;
}

export async function startStack(
  database: string,
  env: Record<string, string> = {},
  brokerPersistence = false,
): Promise<Stack> {
  const [broker, influx, dir] = await Promise.all([
    startMosquitto({ persistence: brokerPersistence }),
    startInfluxDB({ database }),
    makeTempDir(),
  ]);
  const gateway = new GatewayProcess({
    GATEWAY_MQTT_URL: broker.url,
    INFLUX_URL: influx.url,
    INFLUX_DB: database,
    CNX_DATA_DIR: dir,
    GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    ...env,
  });
  await gateway.start();
  return {
    broker,
    influx,
    gateway,
    dir,
    async stop() {
      await gateway.stop();
      await Promise.all([broker.stop(), influx.stop()]);
      await removeDir(dir);
    },
  };
}
