/**
 * Child process of the Modbus bench: hosts simulated canal stations (@cnx/firmware-sim) so that the
 * servers' CPU is not the poller's. Started by modbus.bench.ts with a JSON spec as its argument:
 *
 *   node --import tsx bench/src/modbus-host.ts '{"citiesDir":"..","city":"modbench","fleets":[...]}'
 *
 * Prints one line `READY {"fleets":[{name, simStart, endpoints}]}` when every fleet listens, and
 * stops them all on SIGTERM / SIGINT.
 */
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import {
  type CanalEndpoint,
  type CanalFaultSpec,
  type CanalFleet,
  canalStationsFromPack,
  createCanalFleet,
} from '@cnx/firmware-sim';

export interface HostFleetSpec {
  name: string;
  devices: string[];
  tcpBasePort?: number;
  rtu?: { dir: string; baudRate: number; emulateLineSpeed: boolean };
  faults?: CanalFaultSpec[];
  /** Frozen simulated time (values never change: the cheapest server) unless `live`. */
  live?: boolean;
}

export interface HostSpec {
  citiesDir: string;
  city: string;
  fleets: HostFleetSpec[];
}

export interface HostReady {
  fleets: { name: string; simStart: number; endpoints: CanalEndpoint[] }[];
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as HostSpec;
  const pack = await loadCityPack(resolveCityDir(spec.city, spec.citiesDir));
  if (!pack.ok) throw new Error(`city pack ${spec.city} invalid`);
  const fleets: CanalFleet[] = [];
  const ready: HostReady = { fleets: [] };
  const stop = async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for (const f of spec.fleets) {
    const simStart = Date.now();
    const fleet = createCanalFleet({
      city: spec.city,
      stations: canalStationsFromPack(pack.value, { devices: f.devices }),
      simStart,
      ...(f.live ? { now: () => Date.now() } : { timeScale: 0 }),
      tcp: f.tcpBasePort ? { basePort: f.tcpBasePort } : false,
      rtu: f.rtu ? { dir: f.rtu.dir, baudRate: f.rtu.baudRate, emulateLineSpeed: f.rtu.emulateLineSpeed } : undefined,
      faults: f.faults ?? [],
    });
    fleets.push(fleet);
    await fleet.start();
    ready.fleets.push({ name: f.name, simStart, endpoints: [...fleet.endpoints] });
  }
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
}

main().catch((e) => {
  process.stderr.write(`modbus-host: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
