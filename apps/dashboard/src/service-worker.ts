/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The service worker for Web Push alerts (issue 12), registered only when a reader chooses browser
 * notifications (svelte.config.js: serviceWorker.register false). A push carries
 * `{title, body, data, unsubscribeUrl}` (apps/alerts webpush.adapter.ts): it is shown as a
 * notification; a click opens the confirm page (a confirmation) or the station's page (an alert);
 * the "unsubscribe" action posts the one-click unsubscribe (RFC 8058 URL).
 */
const sw = self as unknown as ServiceWorkerGlobalScope;

interface PushMessage {
  title?: string;
  body?: string;
  unsubscribeUrl?: string;
  data?: { type?: string; confirmUrl?: string; alertId?: number; subject?: { type?: string; id?: string } };
}

sw.addEventListener('install', () => {
  void sw.skipWaiting();
});
sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener('push', (event) => {
  let msg: PushMessage = {};
  try {
    msg = (event.data?.json() ?? {}) as PushMessage;
  } catch {
    msg = { title: 'cnx-sense', body: event.data?.text() ?? '' };
  }
  const d = msg.data ?? {};
  const url =
    d.type === 'subscription.confirm'
      ? (d.confirmUrl ?? '/')
      : d.subject?.type === 'station' && d.subject.id
        ? `/station/${encodeURIComponent(d.subject.id)}`
        : '/';
  event.waitUntil(
    sw.registration.showNotification(msg.title ?? 'cnx-sense', {
      body: msg.body ?? '',
      tag: d.alertId ? `cnx-alert-${d.alertId}` : undefined,
      data: { url, unsubscribeUrl: msg.unsubscribeUrl },
      ...(msg.unsubscribeUrl ? { actions: [{ action: 'unsubscribe', title: 'ยกเลิก / Unsubscribe' }] } : {}),
    } as NotificationOptions),
  );
});

sw.addEventListener('notificationclick', (event) => {
  const data = (event.notification.data ?? {}) as { url?: string; unsubscribeUrl?: string };
  event.notification.close();
  if (event.action === 'unsubscribe' && data.unsubscribeUrl) {
    event.waitUntil(fetch(data.unsubscribeUrl, { method: 'POST' }).then(() => undefined));
    return;
  }
  event.waitUntil(sw.clients.openWindow(data.url ?? '/').then(() => undefined));
});
