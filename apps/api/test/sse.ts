import { get, type IncomingHttpHeaders } from 'node:http';

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseClient {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed events so far (comments are dropped). */
  events: SseEvent[];
  /** The raw body when the answer was not an event stream (an error). */
  body(): string;
  /** Resolves when the server ended the response (an error answer is complete then). */
  ended: Promise<void>;
  waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A minimal EventSource for tests: GET, parse `event:` / `id:` / `data:` blocks. */
export function openSse(url: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const ended = new Promise<void>((done) => {
        res.once('end', done);
        res.once('close', done);
      });
      const events: SseEvent[] = [];
      let buffer = '';
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line === '') continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'event') e.event = value;
            else if (field === 'id') e.id = value;
            else if (field === 'data') e.data += value;
            else continue;
            any = true;
          }
          if (any && e.data !== '') events.push(e);
          cut = buffer.indexOf('\n\n');
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        body: () => raw,
        ended,
        async waitFor(predicate, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!predicate(events)) {
            if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(events).slice(0, 500)}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}
