/**
 * Where the overview map writes district names and draws station markers so that people can read them:
 * labels never overlap one another or a marker, nor leave the frame (placed by priority, moved to a free
 * spot inside their district, or left out: the district list names them all), and markers never cover one another
 * (pushed apart, each with a leader line to its true place). Pure, computed on the server per language
 * and for two sizes: the desktop map and the phone map, whose markers and names are drawn larger.
 */
import { labelWidth } from './geo';

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** How a map size draws things, in map units (the SVG's viewBox). */
export interface MapMode {
  /** District name font size. */
  fontSize: number;
  /** Marker radius (the marker shapes are drawn within it). */
  markerR: number;
}

/**
 * The desktop map (~1.1 px per unit) and the phone map (~0.56 px per unit on a 390-px phone), whose
 * markers are drawn 2.2 times larger (CityMap.svelte): a marker's target is then ~27 px across there.
 */
export const MAP_MODES = {
  desktop: { fontSize: 12, markerR: 11 },
  phone: { fontSize: 20, markerR: 24 },
} as const satisfies Record<string, MapMode>;
export type MapModeName = keyof typeof MAP_MODES;

/** Margin kept between labels, and between a label and the frame's edge, in map units. */
const GAP = 2;

/**
 * The box a label takes, anchored at its middle and baseline (SVG text-anchor middle). Tall enough for
 * Thai marks above and below the line, wide enough for the halo (paint-order stroke).
 */
export function labelBox(text: string, x: number, y: number, fontSize: number): Box {
  const half = (labelWidth(text, fontSize) + 0.4 * fontSize) / 2;
  return { x0: x - half, x1: x + half, y0: y - 1.05 * fontSize, y1: y + 0.4 * fontSize };
}

export const boxesOverlap = (a: Box, b: Box, gap = 0): boolean =>
  a.x0 < b.x1 + gap && b.x0 < a.x1 + gap && a.y0 < b.y1 + gap && b.y0 < a.y1 + gap;

function boxHitsCircle(b: Box, c: { x: number; y: number; r: number }): boolean {
  const dx = c.x - Math.max(b.x0, Math.min(c.x, b.x1));
  const dy = c.y - Math.max(b.y0, Math.min(c.y, b.y1));
  return dx * dx + dy * dy < c.r * c.r;
}

export interface LabelRequest {
  id: string;
  text: string;
  /** Preferred anchor (the district's centroid). */
  x: number;
  y: number;
  /** Higher first (e.g. the number of stations in the district). */
  priority: number;
  /** Whether an anchor lies inside the district (a label stays on its own district). */
  inside(x: number, y: number): boolean;
}

export interface PlacedLabel {
  id: string;
  text: string;
  x: number;
  y: number;
  box: Box;
}

/**
 * Places labels in priority order at the first candidate anchor (the centroid, then nearby points inside
 * the district, nearest first) whose box stays inside the frame, clear of the labels already placed and
 * of every marker. A label with no such spot is left out (null).
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  frame: { width: number; height: number },
  mode: MapMode,
  markers: readonly { x: number; y: number }[] = [],
): Map<string, PlacedLabel | null> {
  const f = mode.fontSize;
  const out = new Map<string, PlacedLabel | null>();
  const placed: Box[] = [];
  const circles = markers.map((m) => ({ ...m, r: mode.markerR + 1 }));
  const inFrame = (b: Box) => b.x0 >= GAP && b.y0 >= GAP && b.x1 <= frame.width - GAP && b.y1 <= frame.height - GAP;
  const order = [...labels].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  for (const l of order) {
    const w = labelWidth(l.text, f);
    const candidates: [number, number][] = [];
    for (const dy of [0, -1, 1, -2, 2, -3, 3]) {
      for (const dx of [0, -0.5, 0.5, -1, 1]) candidates.push([l.x + dx * (w / 2), l.y + 0.35 * f + dy * 1.3 * f]);
    }
    candidates.sort((a, b) => Math.hypot(a[0] - l.x, a[1] - l.y) - Math.hypot(b[0] - l.x, b[1] - l.y));
    const free = candidates
      .map(([x, y]) => ({ x, y, box: labelBox(l.text, x, y, f) }))
      .filter(
        (c) => l.inside(c.x, c.y - 0.35 * f) && inFrame(c.box) && !placed.some((p) => boxesOverlap(p, c.box, GAP)),
      );
    // Markers are drawn over the names: a name a marker would cover is as unreadable as a missing one.
    const best = free.find((c) => !circles.some((m) => boxHitsCircle(c.box, m)));
    if (!best) {
      out.set(l.id, null);
      continue;
    }
    // Rounded for the page (a tenth of a unit: well inside GAP), with the box of the rounded anchor.
    const [x, y] = [round(best.x), round(best.y)];
    const box = labelBox(l.text, x, y, f);
    placed.push(box);
    out.set(l.id, { id: l.id, text: l.text, x, y, box });
  }
  return out;
}

/**
 * Pushes overlapping markers apart (a few dozen relaxation steps: each overlapping pair moves apart
 * along the line between them, a weak pull keeps each near its true place), inside the frame. Returns
 * the drawn position of each marker, in input order.
 */
export function declutterMarkers(
  points: readonly { x: number; y: number }[],
  frame: { width: number; height: number },
  r: number,
  gap = 2,
): [number, number][] {
  const p = points.map((q) => [q.x, q.y] as [number, number]);
  const min = 2 * r + gap;
  const clamp = (v: number, hi: number) => Math.min(hi - r - 1, Math.max(r + 1, v));
  for (let step = 0; step < 200; step++) {
    let moved = false;
    for (let i = 0; i < p.length; i++) {
      for (let j = i + 1; j < p.length; j++) {
        const a = p[i]!;
        const b = p[j]!;
        let dx = b[0] - a[0];
        let dy = b[1] - a[1];
        let d = Math.hypot(dx, dy);
        if (d >= min) continue;
        if (d < 1e-6) {
          // Same place: separate along a fixed direction per pair (deterministic).
          const angle = ((i * 7 + j * 13) % 12) * (Math.PI / 6);
          dx = Math.cos(angle);
          dy = Math.sin(angle);
          d = 1;
        }
        const push = (min - d) / 2 + 0.01;
        a[0] -= (dx / d) * push;
        a[1] -= (dy / d) * push;
        b[0] += (dx / d) * push;
        b[1] += (dy / d) * push;
        moved = true;
      }
    }
    // A weak pull home in the first steps only, so the last steps end without overlaps.
    for (let i = 0; i < p.length; i++) {
      const q = p[i]!;
      if (step < 100) {
        q[0] += (points[i]!.x - q[0]) * 0.05;
        q[1] += (points[i]!.y - q[1]) * 0.05;
      }
      q[0] = clamp(q[0], frame.width);
      q[1] = clamp(q[1], frame.height);
    }
    if (!moved && step >= 100) break;
  }
  return p.map(([x, y]) => [round(x), round(y)]);
}

const round = (v: number) => Math.round(v * 10) / 10;
