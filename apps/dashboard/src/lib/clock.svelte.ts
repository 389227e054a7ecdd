/**
 * The page's idea of "now", for ages ("2 minutes ago") and for deciding what is still live. On the
 * server it is the render time; in the browser it advances every CLOCK_TICK_MS while a page is open,
 * so a value that stops arriving stops being shown as live by itself.
 */
import { browser } from '$app/environment';

export const CLOCK_TICK_MS = 15_000;

export const clock = $state({ now: Date.now() });

/**
 * "Now" for a render: the ticking clock in the browser (reactive: read inside $derived or markup),
 * the render time on the server (where `clock` would be the server's start time).
 */
export const pageNow = (): number => (browser ? clock.now : Date.now());

let started = false;
/** Start ticking (browser only; called once by the layout). */
export function startClock(): () => void {
  if (started) return () => undefined;
  started = true;
  clock.now = Date.now();
  const timer = setInterval(() => {
    clock.now = Date.now();
  }, CLOCK_TICK_MS);
  return () => {
    clearInterval(timer);
    started = false;
  };
}
