/**
 * Which airrohr sensors may push, and as which device. Read at start-up from the JSON file named by
 * GATEWAY_AIRROHR_REGISTRY and checked against the city pack; every problem is reported at once.
 *
 *   [{ "sensor": "esp8266-13463418", "deviceId": "xx-air-citizen-0001", "stationId": "xx-air-01",
 *      "password": "optional shared secret", "note": "optional, for the operator" }]
 *
 * `sensor` is the firmware's X-Sensor header. `deviceId` is the id readings are stored and published
 * under; it may be a city-pack device with transport "http" (then `stationId` may be omitted), or a
 * new id, whose `stationId` must be an air station of the pack. See docs/airrohr.md.
 */
import { readFile } from 'node:fs/promises';
import { type CityPack, ID_PATTERN as REGISTRY_ID_PATTERN } from '@cnx/city-pack';
import { type Device, err, ok, type Result } from '@cnx/domain';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { SENSOR_HEADER_PATTERN } from './airrohr.schemas';

export const AirrohrRegistrationSchema = Type.Object(
  {
    sensor: Type.String({ pattern: SENSOR_HEADER_PATTERN }),
    deviceId: Type.String({ pattern: REGISTRY_ID_PATTERN.source }),
    stationId: Type.Optional(Type.String({ pattern: REGISTRY_ID_PATTERN.source })),
    /** Shared secret the sensor sends as the HTTP basic-auth password ("custom API" user/password). */
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 64 })),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const AirrohrRegistryFileSchema = Type.Array(AirrohrRegistrationSchema);

export type AirrohrRegistration = Type.Static<typeof AirrohrRegistrationSchema>;

const fileValidator = Compile(AirrohrRegistryFileSchema);

/** One registered sensor, resolved against the city pack. */
export interface RegisteredSensor {
  /** X-Sensor value, lower-cased. */
  sensor: string;
  device: Device;
  password?: string;
}

/** The model every registry-only device gets (the city pack's `model` field). */
export const AIRROHR_MODEL = 'airrohr';

export class AirrohrRegistry {
  private readonly bySensor = new Map<string, RegisteredSensor>();

  constructor(sensors: readonly RegisteredSensor[] = []) {
    for (const s of sensors) this.bySensor.set(s.sensor.toLowerCase(), s);
  }

  /** Look up an X-Sensor header value (case-insensitive: ESP32 chip ids are hex). */
  get(sensorHeader: string): RegisteredSensor | undefined {
    return this.bySensor.get(sensorHeader.toLowerCase());
  }

  get size(): number {
    return this.bySensor.size;
  }

  sensors(): IterableIterator<RegisteredSensor> {
    return this.bySensor.values();
  }
}

export interface LoadedRegistry {
  registry: AirrohrRegistry;
  /** Non-fatal findings for the operator's log (e.g. a device id that reveals the chip id). */
  warnings: string[];
}

/** Validate registry entries against the city pack. Errors are complete sentences naming the entry. */
export function buildAirrohrRegistry(entries: unknown, pack: CityPack): Result<LoadedRegistry, string[]> {
  if (!fileValidator.Check(entries)) {
    const problems = [...fileValidator.Errors(entries)]
      .slice(0, 20)
      .map((e) => `${e.instancePath || '/'} ${e.message}`);
    return err(problems);
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const sensors: RegisteredSensor[] = [];
  const seenSensors = new Map<string, number>();
  const seenDevices = new Map<string, number>();
  entries.forEach((e, i) => {
    const where = `/${i} (${e.sensor})`;
    const sensor = e.sensor.toLowerCase();
    const dupS = seenSensors.get(sensor);
    if (dupS !== undefined) problems.push(`${where}: sensor is already registered in entry /${dupS}`);
    seenSensors.set(sensor, i);
    const dupD = seenDevices.get(e.deviceId);
    if (dupD !== undefined) problems.push(`${where}: deviceId ${e.deviceId} is already used by entry /${dupD}`);
    seenDevices.set(e.deviceId, i);

    let device: Device | undefined;
    const packDevice = pack.deviceById.get(e.deviceId);
    if (packDevice) {
      // Never let an HTTP client speak for an MQTT or Modbus device of the pack.
      if (packDevice.transport !== 'http') {
        problems.push(
          `${where}: deviceId ${e.deviceId} is a city-pack device with transport "${packDevice.transport}", not "http"`,
        );
      } else if (e.stationId !== undefined && e.stationId !== packDevice.stationId) {
        problems.push(
          `${where}: stationId ${e.stationId} differs from the city pack's ${packDevice.stationId} for ${e.deviceId}`,
        );
      } else {
        device = packDevice;
      }
    } else if (e.stationId === undefined) {
      problems.push(`${where}: stationId is required because ${e.deviceId} is not a device of the city pack`);
    } else {
      const station = pack.stationById.get(e.stationId);
      if (!station) problems.push(`${where}: station ${e.stationId} is not in the city pack`);
      else if (station.kind !== 'air') problems.push(`${where}: station ${e.stationId} is a ${station.kind} station`);
      else device = { id: e.deviceId, stationId: e.stationId, model: AIRROHR_MODEL, transport: 'http' };
    }
    const chip = sensor.slice(sensor.indexOf('-') + 1);
    if (chip.length >= 4 && e.deviceId.includes(chip)) {
      warnings.push(
        `${where}: deviceId ${e.deviceId} contains the chip id; device ids are published (docs/airrohr.md)`,
      );
    }
    if (device) sensors.push({ sensor, device, ...(e.password === undefined ? {} : { password: e.password }) });
  });
  if (problems.length > 0) return err(problems);
  return ok({ registry: new AirrohrRegistry(sensors), warnings });
}

/** Read and validate the registry file. Every problem is prefixed with the file name. */
export async function loadAirrohrRegistry(file: string, pack: CityPack): Promise<Result<LoadedRegistry, string[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return err([`${file}: cannot read the airrohr registry: ${(e as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return err([`${file}: not valid JSON: ${(e as Error).message}`]);
  }
  const built = buildAirrohrRegistry(doc, pack);
  return built.ok ? built : err(built.error.map((p) => `${file} ${p}`));
}
