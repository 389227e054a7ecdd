/** One Server-Sent Event, as dispatched (WHATWG HTML, "event stream interpretation"). */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  type: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  /** The last event id seen (`id:` field). */
  id: string;
}

/**
 * Incremental text/event-stream parser: feed decoded text chunks, get events. Handles `\r\n`, `\r`
 * and `\n` line ends split across chunks, comments, multi-line data, `id` and `retry`.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private type = '';
  private lastId = '';
  private started = false;
  /** Set from a `retry:` field (milliseconds). */
  retryMs: number | undefined;

  constructor(private readonly dispatch: (event: SseEvent) => void) {}

  push(chunk: string): void {
    let text = this.buffer + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (c === 13 && i === text.length - 1) break;
      this.line(text.slice(start, i));
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buffer = text.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      this.flush();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id') {
      if (!value.includes('\0')) this.lastId = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private flush(): void {
    const type = this.type || 'message';
    this.type = '';
    if (this.data.length === 0) return;
    const data = this.data.join('\n');
    this.data = [];
    this.dispatch({ type, data, id: this.lastId });
  }
}
