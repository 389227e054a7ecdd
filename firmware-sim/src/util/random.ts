/**
 * Deterministic randomness. Nothing in the value path may use Math.random: every draw is a pure
 * function of (seed, key parts), so the same seed replays the same city, and a value at simulated time
 * t can be computed without replaying everything before it (tests assert on single instants).
 */

/** mulberry32: a tiny 32-bit PRNG (Tommy Ettinger, public domain). Good enough for simulation. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3 finaliser: spreads the bits of a 32-bit value so close inputs give unrelated outputs. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function mixString(h: number, s: string): number {
  let x = h;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
  return fmix32(x);
}

function mixNumber(h: number, n: number): number {
  // Epoch milliseconds exceed 32 bits: mix the high and low words separately.
  const lo = n >>> 0;
  const hi = Math.floor(n / 4294967296) >>> 0;
  return fmix32(Math.imul(fmix32(h ^ lo), 16777619) ^ hi);
}

export type KeyPart = string | number;

/** A 32-bit hash of the seed and key parts (FNV-1a style mixing, murmur3 finalised). */
export function hash32(seed: number, ...parts: KeyPart[]): number {
  let h = fmix32((seed >>> 0) ^ 0x811c9dc5);
  for (const p of parts) h = typeof p === 'string' ? mixString(h, p) : mixNumber(h, Math.trunc(p));
  return h;
}

/** Uniform in [0, 1). */
export const unit = (seed: number, ...parts: KeyPart[]): number => mulberry32(hash32(seed, ...parts))();

/** Uniform in [-1, 1). */
export const signed = (seed: number, ...parts: KeyPart[]): number => unit(seed, ...parts) * 2 - 1;

/** Approximately standard normal (Box–Muller on two draws of one stream). */
export function gaussian(seed: number, ...parts: KeyPart[]): number {
  const next = mulberry32(hash32(seed, ...parts));
  const u1 = Math.max(next(), 1e-12);
  const u2 = next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const smoothstep = (f: number): number => f * f * (3 - 2 * f);

/**
 * 1-D value noise in [-1, 1]: random knots every `periodMs`, smoothly interpolated. Gives slowly
 * varying, temporally correlated fluctuations (weather, plateau wobble) that are still a pure
 * function of t.
 */
export function valueNoise(seed: number, key: string, t: number, periodMs: number): number {
  const x = t / periodMs;
  const k = Math.floor(x);
  const a = signed(seed, key, k);
  const b = signed(seed, key, k + 1);
  return a + (b - a) * smoothstep(x - k);
}
