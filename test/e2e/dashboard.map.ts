/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (page.evaluate callbacks run in the browser)
/** What the overview map looks like on screen, measured in the browser (CSS pixels). */
import type { Page } from 'playwright-core';

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

/** The district names the reader sees (the label set of the current map size) and the map's box. */
export function renderedLabels(page: Page): Promise<{ map: Rect; labels: { id: string; text: string; rect: Rect }[] }> {
  return page.evaluate(() => {
    const box = (r: DOMRect) => ({
      left: r.left,
      top: r.top,
      right: r.right,
      bottom: r.bottom,
      width: r.width,
      height: r.height,
    });
    const svg = document.querySelector('[data-testid="city-map"]')!;
    const groups = [...document.querySelectorAll('[data-testid^="labels-"]')].filter(
      (g) => getComputedStyle(g).display !== 'none',
    );
    if (groups.length !== 1) throw new Error(`expected one visible label set, got ${groups.length}`);
    const labels = [...groups[0]!.querySelectorAll('text')].map((t) => ({
      id: t.getAttribute('data-label') ?? '',
      text: t.textContent ?? '',
      rect: box(t.getBoundingClientRect()),
    }));
    return { map: box(svg.getBoundingClientRect()), labels };
  });
}

/**
 * Each station marker as drawn: its target (the link's box), the visible shape's box, its centre, and
 * the rendered font size of its AQI number (px).
 */
export function renderedMarkers(
  page: Page,
): Promise<{ id: string; rect: Rect; shape: Rect; cx: number; cy: number; fontPx: number | null }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="marker"]')].map((a) => {
      const r = a.getBoundingClientRect();
      const s = (a.querySelector('.marker, .canal') as SVGGraphicsElement).getBoundingClientRect();
      const aqi = a.querySelector('text.aqi') as SVGTextElement | null;
      const fontPx = aqi ? Number.parseFloat(getComputedStyle(aqi).fontSize) * (aqi.getScreenCTM()?.a ?? 0) : null;
      return {
        id: a.getAttribute('data-station') ?? '',
        rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height },
        shape: { left: s.left, top: s.top, right: s.right, bottom: s.bottom, width: s.width, height: s.height },
        cx: r.left + r.width / 2,
        cy: r.top + r.height / 2,
        fontPx,
      };
    }),
  );
}
