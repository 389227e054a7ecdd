import { ApiError } from './errors';
import type { Heartbeat, LiveAlert, LiveReading, ReportFeature } from './generated/openapi';
import { type SseEvent, SseParser } from './sse';

/** Callbacks of a live subscription; all optional. */
export interface LiveHandlers {
  /** `event: reading`: a normalised reading as soon as the gateway accepted it; `id` is `<ts>-<device>`. */
  reading?(reading: LiveReading, id: string): void;
  /** `event: heartbeat`, every `API_STREAM_HEARTBEAT_S` (15 s by default). */
  heartbeat?(heartbeat: Heartbeat): void;
  /** `event: alert`: an alert about one of the stream's stations was raised, changed or ended. */
  alert?(alert: LiveAlert, id: string): void;
  /** `event: report`: staff approved a citizen report (a GeoJSON Feature, as in listReports). */
  report?(report: ReportFeature, id: string): void;
  /**
   * Every event, parsed or not, including types this client does not know yet. With
   * the EventSource transport only named types are seen: reading, heartbeat, message and
   * `LiveOptions.events`.
   */
  event?(event: SseEvent): void;
  /** The stream is open (again, after a reconnect). */
  open?(): void;
  /**
   * The connection dropped; the subscription reconnects by itself after `retryMs`. The stream is live
   * only: fetch what was missed with listStationReadings.
   */
  disconnect?(cause?: unknown): void;
  /**
   * A terminal error: the API refused the stream (ApiError: 400 bad filter, 404 unknown station,
   * 429 too_many_streams, 503 stream_unavailable…) or an event's data was not JSON. After an ApiError
   * the subscription is closed.
   */
  error?(error: ApiError | Error): void;
}

/** The WHATWG EventSource, as a constructor (the browser's, or e.g. the `eventsource` package in Node). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: { data?: unknown; lastEventId?: string }) => void): void;
  onopen: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  close(): void;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

export interface LiveOptions {
  /**
   * `auto` (default): EventSource when there is one (browsers; `eventSource` option), otherwise a
   * fetch-based reader (Node 20, which has no EventSource). `fetch` works everywhere fetch streams.
   */
  transport?: 'auto' | 'eventsource' | 'fetch';
  /** An EventSource implementation, when the global one is missing or should not be used. */
  eventSource?: EventSourceConstructor;
  /** Reconnection delay of the fetch transport (default 3000 ms, or the server's `retry:`). */
  retryMs?: number;
  /** Extra event types the EventSource transport listens for (it cannot see unnamed types). */
  events?: readonly string[];
  /** Closes the subscription when aborted. */
  signal?: AbortSignal;
}

export interface LiveSubscription {
  /** Which transport is in use. */
  readonly transport: 'eventsource' | 'fetch';
  /** Stops the subscription (idempotent). */
  close(): void;
  readonly closed: boolean;
}

interface Context {
  url: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
}

const CLOSED = 2;

/** Opens a live subscription on `url` (GET /v1/stream with its query). */
export function subscribe(ctx: Context, handlers: LiveHandlers, options: LiveOptions = {}): LiveSubscription {
  const transport = options.transport ?? 'auto';
  // The DOM's EventSource is assignable to EventSourceConstructor (checked here by the compiler).
  const ES: EventSourceConstructor | undefined =
    options.eventSource ?? (typeof EventSource === 'function' ? EventSource : undefined);
  if (transport === 'eventsource' && !ES) {
    throw new Error('no EventSource here: pass options.eventSource, or use transport "fetch"');
  }
  const sub =
    ES && transport !== 'fetch' ? viaEventSource(ES, ctx, handlers, options) : viaFetch(ctx, handlers, options);
  if (options.signal) {
    if (options.signal.aborted) sub.close();
    else options.signal.addEventListener('abort', () => sub.close(), { once: true });
  }
  return sub;
}

function dispatch(handlers: LiveHandlers, event: SseEvent): void {
  handlers.event?.(event);
  if (event.type !== 'reading' && event.type !== 'heartbeat' && event.type !== 'alert' && event.type !== 'report')
    return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    handlers.error?.(
      new Error(`live stream: ${event.type} event ${event.id} is not JSON: ${event.data.slice(0, 200)}`),
    );
    return;
  }
  if (event.type === 'reading') handlers.reading?.(parsed as LiveReading, event.id);
  else if (event.type === 'alert') handlers.alert?.(parsed as LiveAlert, event.id);
  else if (event.type === 'report') handlers.report?.(parsed as ReportFeature, event.id);
  else handlers.heartbeat?.(parsed as Heartbeat);
}

function viaEventSource(
  ES: EventSourceConstructor,
  ctx: Context,
  handlers: LiveHandlers,
  options: LiveOptions,
): LiveSubscription {
  let closed = false;
  const es = new ES(ctx.url);
  for (const type of new Set(['reading', 'heartbeat', 'alert', 'report', 'message', ...(options.events ?? [])])) {
    es.addEventListener(type, (e) => {
      if (!closed) dispatch(handlers, { type, data: String(e.data ?? ''), id: e.lastEventId ?? '' });
    });
  }
  es.onopen = () => {
    if (!closed) handlers.open?.();
  };
  es.onerror = (cause: unknown) => {
    if (closed) return;
    if (es.readyState !== CLOSED) {
      handlers.disconnect?.(cause); // EventSource reconnects by itself
      return;
    }
    // EventSource gave up (an error status or not an event stream) without telling why: ask once
    // with fetch to turn the answer into a typed error.
    sub.close();
    void probe(ctx).then((err) => handlers.error?.(err));
  };
  const sub: LiveSubscription = {
    transport: 'eventsource',
    close() {
      closed = true;
      es.close();
    },
    get closed() {
      return closed;
    },
  };
  return sub;
}

async function probe(ctx: Context): Promise<Error> {
  const ac = new AbortController();
  try {
    const res = await ctx.fetch(ctx.url, {
      headers: { ...ctx.headers, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    if (!res.ok) return await ApiError.fromResponse(res, 'streamReadings', ctx.url);
    return new Error('live stream: the EventSource closed, but the stream answers 200 now');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    ac.abort();
  }
}

function viaFetch(ctx: Context, handlers: LiveHandlers, options: LiveOptions): LiveSubscription {
  const ac = new AbortController();
  let closed = false;
  let retryMs = options.retryMs ?? 3000;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      ac.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });

  const run = async () => {
    while (!closed) {
      let res: Response;
      try {
        // Only CORS-safelisted headers: no preflight (the API does not replay on Last-Event-ID anyway).
        res = await ctx.fetch(ctx.url, { headers: { ...ctx.headers, accept: 'text/event-stream' }, signal: ac.signal });
      } catch (err) {
        if (closed) return;
        handlers.disconnect?.(err);
        await sleep(retryMs);
        continue;
      }
      const type = res.headers.get('content-type') ?? '';
      if (!res.ok || !type.startsWith('text/event-stream') || !res.body) {
        const err = res.ok
          ? new ApiError({
              status: res.status,
              code: 'unexpected_response',
              message: `streamReadings: expected text/event-stream, got ${type || 'no content type'}`,
              operation: 'streamReadings',
              url: ctx.url,
            })
          : await ApiError.fromResponse(res, 'streamReadings', ctx.url);
        closed = true;
        ac.abort();
        handlers.error?.(err);
        return;
      }
      handlers.open?.();
      const parser = new SseParser((e) => {
        if (!closed) dispatch(handlers, e);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let cause: unknown;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.push(value);
          if (parser.retryMs !== undefined) retryMs = parser.retryMs;
        }
      } catch (err) {
        cause = err;
      } finally {
        reader.releaseLock();
      }
      if (closed) return;
      handlers.disconnect?.(cause);
      await sleep(retryMs);
    }
  };
  void run();
  return {
    transport: 'fetch',
    close() {
      if (closed) return;
      closed = true;
      ac.abort();
    },
    get closed() {
      return closed;
    },
  };
}
