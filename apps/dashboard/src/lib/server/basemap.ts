import { env } from '$env/dynamic/private';
import { type BaseMapConfig, parseBaseMapEnv } from '$lib/basemap';

/** The base map settings (null: off, the default). Throws listing every bad setting (checked at start). */
export function baseMapConfig(): BaseMapConfig | null {
  const { config, problems } = parseBaseMapEnv(env);
  if (problems.length > 0) throw new Error(`dashboard configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
