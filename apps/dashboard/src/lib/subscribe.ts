/**
 * Browser helpers of the subscription pages (issue 12): the browser's position (for "near me", with
 * `nearest` of $lib/nearest) and a Web Push subscription of this browser (service worker + PushManager,
 * VAPID key from the API).
 */
import type { CnxApiClient } from '@cnx/api-client';

/** The browser's position, or undefined when it is unavailable or refused. */
export function currentPosition(timeoutMs = 10_000): Promise<{ lat: number; lon: number } | undefined> {
  return new Promise((resolve) => {
    if (!('geolocation' in navigator)) return resolve(undefined);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => resolve(undefined),
      { timeout: timeoutMs, maximumAge: 60_000 },
    );
  });
}

export const pushSupported = (): boolean =>
  typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined';

const fromBase64url = (s: string): Uint8Array<ArrayBuffer> => {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

/**
 * This browser's push subscription for the alerts service (RFC 8030/8292): registers the service
 * worker (src/service-worker.ts), asks for permission and subscribes with the VAPID key.
 */
export async function browserPushSubscription(
  client: CnxApiClient,
  moduleWorker: boolean,
): Promise<PushSubscriptionJSON> {
  const reg = await navigator.serviceWorker.register('/service-worker.js', {
    type: moduleWorker ? 'module' : 'classic',
  });
  await navigator.serviceWorker.ready;
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications not allowed');
  const { publicKey } = await client.getWebPushKey();
  const sub = await reg.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: fromBase64url(publicKey),
  });
  return sub.toJSON();
}
