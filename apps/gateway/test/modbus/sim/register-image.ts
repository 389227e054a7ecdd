import { encodeStatus, encodeValue, loadRegisterMap, type RegisterMap, type WordOrder } from '@cnx/device-models';

export const CANAL_MAP_ID = 'cnx-canal-probe-v1';

/** Engineering values served by a test canal station (per register name). */
export type StationValues = Record<string, number>;

export const DEFAULT_VALUES: StationValues = {
  water_level: 1.234,
  water_temperature: 27.5,
  conductivity: 350,
  battery: 87.5,
  do: 6.8,
  ph: 7.2,
  turbidity: 12.5,
};

/**
 * A register image of one simulated device: values encoded with the device-models codec (the same
 * one the poller decodes with), in the device's word order. Unmapped addresses read as 0.
 */
export class RegisterImage {
  readonly map: RegisterMap;
  private readonly holding = new Map<number, number>();
  private readonly input = new Map<number, number>();

  constructor(
    values: StationValues = DEFAULT_VALUES,
    readonly wordOrder?: WordOrder,
    mapId = CANAL_MAP_ID,
    status: Record<string, boolean> = {},
  ) {
    this.map = loadRegisterMap(mapId);
    this.set(values, status);
  }

  set(values: StationValues, status: Record<string, boolean> = {}): void {
    const order = this.wordOrder ?? this.map.wordOrder;
    for (const def of this.map.registers) {
      let v = values[def.name];
      if (def.name === this.map.status?.register) v = encodeStatus(this.map, status);
      if (v === undefined) continue;
      // A word-order override applies to every 32-bit register (what the gateway's config does).
      const words = encodeValue(this.wordOrder ? { ...def, wordOrder: undefined } : def, v, order);
      const table = def.fn === 3 ? this.holding : this.input;
      words.forEach((w, i) => {
        table.set(def.address + i, w);
      });
    }
  }

  read(fn: 3 | 4, address: number, length: number): number[] {
    const table = fn === 3 ? this.holding : this.input;
    return Array.from({ length }, (_, i) => table.get(address + i) ?? 0);
  }
}
