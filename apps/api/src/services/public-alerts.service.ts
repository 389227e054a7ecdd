/**
 * Public alerts (issue 12): the alerts service's current and recent alerts with the stations and
 * districts each is about (from the city pack), cached for a few seconds (every page view asks), and
 * the same view of each alert event from the bus for the live stream.
 */
import { type AlertEventPayload, type PublicAlertCore, PublicAlertCoreList, publicAlertFromEvent } from '@cnx/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ApiError } from '../errors';
import type { LiveAlert, PublicAlert, PublicAlertList } from '../schemas';
import type { AlertsForwarder } from './alerts.client';
import type { CityContext } from './city';

/** GET /v1/alerts is reused this long (an alert event empties it at once). */
export const ALERTS_CACHE_MS = 5000;
const checkList = Compile(PublicAlertCoreList);

export class PublicAlerts {
  private cached?: { at: number; value: Promise<Static<typeof PublicAlertList>> };

  constructor(
    private readonly alerts: AlertsForwarder | undefined,
    private readonly city: CityContext,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The stations and districts an alert's subject covers. */
  scope(subject: { type: string; id: string }): { stations: string[]; districts: string[] } {
    const all = this.city.stations;
    if (subject.type === 'station') {
      const s = this.city.pack.stationById.get(subject.id);
      return { stations: [subject.id], districts: s ? [s.district] : [] };
    }
    if (subject.type === 'district')
      return { stations: all.filter((s) => s.district === subject.id).map((s) => s.id), districts: [subject.id] };
    return { stations: all.map((s) => s.id), districts: [...new Set(all.map((s) => s.district))].sort() };
  }

  private view(a: PublicAlertCore): Static<typeof PublicAlert> {
    return { ...a, ...this.scope(a.subject) };
  }

  /** The alert of a bus event, as the stream sends it. */
  fromEvent(e: AlertEventPayload): Static<typeof LiveAlert> {
    return { transition: e.type, alert: this.view(publicAlertFromEvent(e)) };
  }

  /** A new alert event: the next GET /v1/alerts asks the alerts service again. */
  invalidate(): void {
    this.cached = undefined;
  }

  list(log: FastifyBaseLogger, requestId: string): Promise<Static<typeof PublicAlertList>> {
    const forwarder = this.alerts;
    if (!forwarder)
      throw new ApiError('alerts_unavailable', 'public alerts are off: API_ALERTS_URL is not set on this API');
    const t = this.clock();
    if (this.cached && t - this.cached.at < ALERTS_CACHE_MS) return this.cached.value;
    const value = (async () => {
      const body = await forwarder.forward({ method: 'GET', path: '/v1/alerts', requestId }, log);
      if (!checkList.Check(body))
        throw new ApiError('alerts_unavailable', 'the alerts service gave an unusable answer');
      return {
        current: body.current.map((a) => this.view(a)),
        recent: body.recent.map((a) => this.view(a)),
        recentHours: body.recentHours,
        generatedAt: new Date(t).toISOString(),
      };
    })();
    const entry = { at: t, value };
    this.cached = entry;
    value.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return value;
  }
}
