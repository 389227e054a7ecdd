import { parseParamList } from '../util/params';
import { hazeScenario } from './haze';
import { normalScenario } from './normal';
import { rainScenario } from './rain';
import type { Scenario, ScenarioDef, ScenarioEnv } from './types';

export type { Conditions, Scenario, ScenarioDef, ScenarioEnv, SiteContext } from './types';

/** Scenario registry, chosen by name (house style: adapters from a map). Add a file, add it here. */
export const SCENARIOS: Readonly<Record<string, ScenarioDef>> = {
  normal: normalScenario,
  haze: hazeScenario,
  rain: rainScenario,
};

/** `haze` or `haze:peak=250,plateau=3d`. */
export function createScenario(spec: string, env: ScenarioEnv): Scenario {
  const colon = spec.indexOf(':');
  const id = colon < 0 ? spec : spec.slice(0, colon);
  const def = SCENARIOS[id];
  if (!def) throw new Error(`unknown scenario "${id}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const { main, opts } = parseParamList(colon < 0 ? undefined : spec.slice(colon + 1));
  if (main !== undefined) throw new Error(`scenario "${id}": parameters are key=value (got "${main}")`);
  for (const k of Object.keys(opts)) {
    if (!(k in def.params)) throw new Error(`scenario "${id}": unknown parameter "${k}"`);
  }
  return def.create(opts, env);
}
