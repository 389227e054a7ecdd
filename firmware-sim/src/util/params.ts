/**
 * `value,key=value,key=value` parameter lists, shared by `--fault dev:mode:PARAMS` and
 * `--scenario name:PARAMS`. The first item may be a bare value: the mode's main parameter.
 */
export interface ParamList {
  main?: string;
  opts: Record<string, string>;
}

export function parseParamList(s: string | undefined): ParamList {
  const out: ParamList = { opts: {} };
  if (!s) return out;
  s.split(',').forEach((item, i) => {
    const part = item.trim();
    if (!part) return;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (i !== 0) throw new Error(`"${part}": only the first parameter may omit "key="`);
      out.main = part;
    } else {
      out.opts[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  });
  return out;
}

export function parseNumber(name: string, v: string | number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}: not a number: "${v}"`);
  return n;
}
