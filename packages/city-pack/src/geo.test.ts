import { describe, expect, it } from 'vitest';
import { isRingClosed, pointInBBox, pointInPolygon, pointInRing } from './geo';

const square = [
  [0, 0],
  [10, 0],
  [10, 10],
  [0, 10],
  [0, 0],
];
const hole = [
  [4, 4],
  [6, 4],
  [6, 6],
  [4, 6],
  [4, 4],
];

describe('pointInRing (ray casting)', () => {
  it('finds points inside and outside a square', () => {
    expect(pointInRing({ lon: 5, lat: 5 }, square)).toBe(true);
    expect(pointInRing({ lon: 0.001, lat: 9.999 }, square)).toBe(true);
    expect(pointInRing({ lon: -1, lat: 5 }, square)).toBe(false);
    expect(pointInRing({ lon: 5, lat: 10.5 }, square)).toBe(false);
  });

  it('handles a concave (L-shaped) ring', () => {
    const l = [
      [0, 0],
      [10, 0],
      [10, 4],
      [4, 4],
      [4, 10],
      [0, 10],
      [0, 0],
    ];
    expect(pointInRing({ lon: 2, lat: 8 }, l)).toBe(true);
    expect(pointInRing({ lon: 8, lat: 2 }, l)).toBe(true);
    expect(pointInRing({ lon: 8, lat: 8 }, l)).toBe(false);
  });

  it('does not depend on winding order or on the ring being closed', () => {
    const reversed = [...square].reverse();
    expect(pointInRing({ lon: 5, lat: 5 }, reversed)).toBe(true);
    expect(pointInRing({ lon: 5, lat: 5 }, square.slice(0, 4))).toBe(true);
  });
});

describe('pointInPolygon', () => {
  it('excludes holes', () => {
    expect(pointInPolygon({ lon: 5, lat: 5 }, [square, hole])).toBe(false);
    expect(pointInPolygon({ lon: 2, lat: 2 }, [square, hole])).toBe(true);
  });

  it('is false for an empty polygon', () => {
    expect(pointInPolygon({ lon: 0, lat: 0 }, [])).toBe(false);
  });
});

describe('pointInBBox and isRingClosed', () => {
  it('checks [west, south, east, north]', () => {
    expect(pointInBBox({ lon: 98.99, lat: 18.79 }, [98.9, 18.7, 99.06, 18.86])).toBe(true);
    expect(pointInBBox({ lon: 18.79, lat: 98.99 }, [98.9, 18.7, 99.06, 18.86])).toBe(false);
  });

  it('detects open rings', () => {
    expect(isRingClosed(square)).toBe(true);
    expect(isRingClosed(square.slice(0, 4))).toBe(false);
  });
});
