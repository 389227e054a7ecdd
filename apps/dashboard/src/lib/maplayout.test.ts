import { describe, expect, it } from 'vitest';
import {
  boxesOverlap,
  declutterMarkers,
  labelBox,
  MAP_MODES,
  type MapModeName,
  type PlacedLabel,
  placeLabels,
} from './maplayout';
import { PACKS, projectPack } from './test-packs';

const FRAME = { width: 640, height: 560 };
const everywhere = () => true;

describe('label placement (collision handling)', () => {
  it('places by priority: of two labels wanting the same spot, the higher keeps it and the lower moves', () => {
    const a = { id: 'a', text: 'Alpha', x: 300, y: 300, priority: 1, inside: everywhere };
    const b = { id: 'b', text: 'Bravo', x: 302, y: 301, priority: 2, inside: everywhere };
    const placed = placeLabels([a, b], FRAME, MAP_MODES.desktop);
    const pa = placed.get('a')!;
    const pb = placed.get('b')!;
    expect(Math.hypot(pb.x - b.x, pb.y - b.y - 0.35 * 12)).toBeLessThan(0.01); // b, first, at its centroid
    expect(boxesOverlap(pa.box, pb.box)).toBe(false);
  });

  it('leaves a label out when its district has no free spot, rather than overlapping or clipping', () => {
    const only = (x: number, y: number) => Math.abs(x - 300) < 5 && Math.abs(y - 300) < 5; // a tiny district
    const big = { id: 'big', text: 'A long district name', x: 300, y: 300, priority: 9, inside: everywhere };
    const tiny = { id: 'tiny', text: 'Tiny', x: 300, y: 300, priority: 1, inside: only };
    const edge = { id: 'edge', text: 'At the edge', x: 3, y: 3, priority: 5, inside: (x: number) => x < 20 };
    const placed = placeLabels([big, tiny, edge], FRAME, MAP_MODES.desktop);
    expect(placed.get('big')).not.toBeNull();
    expect(placed.get('tiny')).toBeNull();
    expect(placed.get('edge')).toBeNull(); // no anchor near the corner keeps the whole box in the frame
  });

  it('moves a name off a marker, and leaves it out when only spots under markers remain', () => {
    const l = { id: 'l', text: 'Name', x: 300, y: 300, priority: 1, inside: everywhere };
    const p = placeLabels([l], FRAME, MAP_MODES.desktop, [{ x: 300, y: 300 }]).get('l')!;
    const { box } = p;
    const nx = Math.max(box.x0, Math.min(300, box.x1));
    const ny = Math.max(box.y0, Math.min(300, box.y1));
    expect(Math.hypot(nx - 300, ny - 300)).toBeGreaterThanOrEqual(MAP_MODES.desktop.markerR);
    const small = (x: number, y: number) => Math.abs(x - 300) < 3 && Math.abs(y - 300) < 3;
    const covered = placeLabels([{ ...l, inside: small }], FRAME, MAP_MODES.desktop, [{ x: 300, y: 300 }]);
    expect(covered.get('l')).toBeNull();
  });

  describe.each(PACKS)('on the map of %s', (_id, pack) => {
    const { map, project, insideDistrict } = projectPack(pack);
    const at = pack.stations.map((s) => {
      const [x, y] = project(s.location.lon, s.location.lat);
      return { x, y };
    });
    it.each(['desktop', 'phone'] as MapModeName[])(
      '%s: no two names overlap, none leaves the frame, each on its district',
      (mode) => {
        for (const lang of ['th', 'en'] as const) {
          const requests = map.districts.map((d) => ({
            id: d.id,
            text: d.label[lang],
            x: d.x,
            y: d.y,
            priority: d.w,
            inside: (x: number, y: number) => insideDistrict(d.id, x, y),
          }));
          const placed = [...placeLabels(requests, map, MAP_MODES[mode], at).values()].filter(
            (p): p is PlacedLabel => p !== null,
          );
          // Most districts keep their name (the desktop map all but the most crowded).
          expect(placed.length, `${mode} ${lang}`).toBeGreaterThanOrEqual(Math.ceil(map.districts.length / 2));
          for (const p of placed) {
            expect(p.box.x0).toBeGreaterThanOrEqual(0);
            expect(p.box.y0).toBeGreaterThanOrEqual(0);
            expect(p.box.x1).toBeLessThanOrEqual(map.width);
            expect(p.box.y1).toBeLessThanOrEqual(map.height);
            expect(p.box).toEqual(labelBox(p.text, p.x, p.y, MAP_MODES[mode].fontSize));
            for (const q of placed) if (q !== p) expect(boxesOverlap(p.box, q.box), `${p.id} / ${q.id}`).toBe(false);
            // ...nor under a marker (markers are drawn over the names).
            for (const m of at) {
              const nx = Math.max(p.box.x0, Math.min(m.x, p.box.x1));
              const ny = Math.max(p.box.y0, Math.min(m.y, p.box.y1));
              expect(Math.hypot(nx - m.x, ny - m.y), p.id).toBeGreaterThanOrEqual(MAP_MODES[mode].markerR);
            }
          }
        }
      },
    );

    it.each(['desktop', 'phone'] as MapModeName[])(
      '%s: markers never cover one another and stay near their place',
      (mode) => {
        const r = MAP_MODES[mode].markerR;
        const placed = declutterMarkers(at, map, r);
        for (let i = 0; i < placed.length; i++) {
          const [x, y] = placed[i]!;
          expect(x).toBeGreaterThanOrEqual(r);
          expect(x).toBeLessThanOrEqual(map.width - r);
          for (let j = i + 1; j < placed.length; j++) {
            const d = Math.hypot(x - placed[j]![0], y - placed[j]![1]);
            expect(d, `${pack.stations[i]!.id} / ${pack.stations[j]!.id}`).toBeGreaterThanOrEqual(2 * r - 0.2);
          }
          expect(Math.hypot(x - at[i]!.x, y - at[i]!.y), pack.stations[i]!.id).toBeLessThan(6 * r);
        }
      },
    );
  });
});

describe('declutterMarkers', () => {
  it('leaves markers that do not touch where they are, and separates two at the same place', () => {
    expect(
      declutterMarkers(
        [
          { x: 100, y: 100 },
          { x: 200, y: 100 },
        ],
        FRAME,
        11,
      ),
    ).toEqual([
      [100, 100],
      [200, 100],
    ]);
    const [a, b] = declutterMarkers(
      [
        { x: 100, y: 100 },
        { x: 100, y: 100 },
      ],
      FRAME,
      11,
    );
    expect(Math.hypot(a![0] - b![0], a![1] - b![1])).toBeGreaterThanOrEqual(22);
  });
});
