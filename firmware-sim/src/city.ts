import { type CityPack, formatCityPackIssue, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { isSimulatable } from './devices';
import type { SimDeviceInfo } from './devices/types';
import { utcOffsetMinutes } from './util/clock';

export interface CityFleetSelection {
  /** Only these device ids (in this order). */
  devices?: string[];
  /** At most this many devices (after `devices`). */
  limit?: number;
}

export interface CityFleet {
  cityId: string;
  timezone: string;
  /** Simulatable devices joined with their station's location. */
  devices: SimDeviceInfo[];
  /** Devices of the pack the simulator cannot play yet (e.g. Modbus canal probes). */
  skipped: string[];
}

/** The simulatable devices of a loaded pack (pure: tests build packs in memory). */
export function fleetDevicesFromPack(
  pack: Pick<CityPack, 'devices' | 'stationById'> & { city?: Pick<CityPack['city'], 'center'> },
  sel: CityFleetSelection = {},
): SimDeviceInfo[] {
  const all = pack.devices.filter(isSimulatable);
  let chosen = all;
  if (sel.devices?.length) {
    const byId = new Map(all.map((d) => [d.id, d]));
    chosen = sel.devices.map((id) => {
      const d = byId.get(id);
      if (d) return d;
      const known = pack.devices.some((x) => x.id === id);
      throw new Error(known ? `device ${id} is not simulatable yet (model/transport)` : `unknown device ${id}`);
    });
  }
  if (sel.limit !== undefined) chosen = chosen.slice(0, sel.limit);
  return chosen.map((d) => {
    const station = pack.stationById.get(d.stationId);
    if (!station) throw new Error(`device ${d.id}: station ${d.stationId} not in the city pack`);
    const info: SimDeviceInfo = {
      id: d.id,
      stationId: d.stationId,
      model: d.model,
      transport: d.transport,
      location: station.location,
    };
    if (d.intervalS !== undefined) info.intervalS = d.intervalS;
    if (pack.city) info.reference = pack.city.center;
    return info;
  });
}

/** Load cities/<cityId>/ and pick the devices to simulate. Throws with every city-pack error listed. */
export async function loadCityFleet(
  cityId: string,
  sel: CityFleetSelection = {},
  citiesDir?: string,
): Promise<CityFleet> {
  const r = await loadCityPack(resolveCityDir(cityId, citiesDir));
  if (!r.ok) throw new Error(`city pack "${cityId}" is invalid:\n  ${r.error.map(formatCityPackIssue).join('\n  ')}`);
  const pack = r.value;
  const devices = fleetDevicesFromPack(pack, sel);
  return {
    cityId: pack.city.id,
    timezone: pack.city.timezone,
    devices,
    skipped: pack.devices.filter((d) => !isSimulatable(d)).map((d) => d.id),
  };
}

export const cityUtcOffset = (timezone: string, at: number): number => utcOffsetMinutes(timezone, at);
