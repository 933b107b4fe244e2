/**
 * Server-sent events, both ends: a writer over an HTTP response (with a heartbeat comment so
 * idle streams survive proxies and dead peers are noticed) and an incremental parser for the
 * client. Data is one line of JSON per event.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { EventJournal } from './event-journal.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Emits `closed` once, when the stream ends or the peer goes away. */
export class SseWriter extends EventEmitter<{ closed: [] }> {
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    options: { heartbeatMs?: number | undefined } = {},
  ) {
    super();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (heartbeatMs > 0) {
      this.timer = setInterval(() => this.comment('heartbeat'), heartbeatMs);
      this.timer.unref();
    }
    res.on('close', () => this.stop());
  }

  /** True once the stream ended or the peer went away. */
  get closed(): boolean {
    return this.ended || this.res.destroyed || this.res.writableEnded;
  }

  /** `id`: the event's own ID (the journal's); by default the stream numbers its events. */
  send(event: string, data: unknown, id: string | number = this.nextId++): void {
    if (this.closed) return;
    this.res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (this.closed) return;
    this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (this.closed) return;
    this.stop();
    this.res.end();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.ended) return;
    this.ended = true;
    this.emit('closed');
  }
}

/**
 * Writes the journal's events to `stream` from where the caller left off (its Last-Event-ID
 * header): a `resync` first when that cannot be honoured, then what it missed, then each event
 * as it happens, under the journal's IDs. Returns the unsubscribe function.
 */
export function followJournal(
  journal: EventJournal,
  stream: SseWriter,
  lastEventId: string | string[] | undefined,
): () => void {
  const last = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const sub = journal.subscribe(
    (entry) => stream.send(entry.event.type, entry.event, entry.id),
    last?.trim(),
  );
  // A resync carries the newest ID, so a reconnect after it resumes from there.
  if (sub.resync) stream.send('resync', sub.resync, journal.lastId ?? `${journal.epoch}-0`);
  for (const entry of sub.replay) stream.send(entry.event.type, entry.event, entry.id);
  return sub.unsubscribe;
}

/** Feeds text chunks in, hands complete events out (comments and `retry:` are skipped). */
export class SseParser {
  private buffer = '';
  private event: Partial<SseEvent> & { dataLines: string[] } = { dataLines: [] };

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      // A lone CR at the end may be the first half of a CRLF: wait for the next chunk.
      if (end < 0 || (end === this.buffer.length - 1 && this.buffer[end] === '\r')) return;
      const newline = this.buffer.startsWith('\r\n', end) ? 2 : 1;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + newline);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      const { event, dataLines, id } = this.event;
      this.event = { dataLines: [] };
      if (dataLines.length === 0) return;
      this.onEvent({
        event: event ?? 'message',
        data: dataLines.join('\n'),
        ...(id !== undefined && { id }),
      });
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event.event = value;
    else if (field === 'data') this.event.dataLines.push(value);
    else if (field === 'id') this.event.id = value;
  }
}
