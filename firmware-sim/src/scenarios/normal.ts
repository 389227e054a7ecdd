import type { ScenarioDef } from './types';

/** The seasonal baseline and daily cycle only: what a sensor sees on an ordinary day of that month. */
export const normalScenario: ScenarioDef = {
  id: 'normal',
  description: 'seasonal baseline + daily inversion cycle for the simulated date (March is smoky, August clean)',
  params: {},
  create: () => ({ id: 'normal', apply: (c) => c }),
};
