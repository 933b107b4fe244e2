/**
 * What the mock terminal received, executed and sent, as facts a test can assert on (not log
 * text): every request it read and what became of it, every command it executed with its reply,
 * every line it wrote. Secrets are masked as in a trace (docs/protocol.md §12: a password is never
 * shown). Kept only when the terminal is built with `record: true`, so a long-running mock holds
 * nothing it was not asked to keep.
 */
import { displayText, maskLine, parseLine } from '../protocol/index.js';

/** What the terminal did with a line it read (docs/protocol.md §10). */
export type RequestOutcome =
  /** Refused before it reached a command: 400, 404, 413 or 460 (`reply` has the code). */
  | 'rejected'
  /** 503 not-ready: the terminal was rebooting. */
  | 'not-ready'
  /** A fault rebooted the terminal before it executed. */
  | 'reboot-before'
  /** 503 busy: a fault, or another command still running. */
  | 'busy'
  /** A retransmission answered from the replay cache (not executed again, §8). */
  | 'replayed'
  /** Handed to its command (see `executed` for the reply). */
  | 'executed';

export interface RecordedRequest {
  /** The connection's label (a transport's name for the link). */
  connection: string;
  /** The line as read, secrets masked; `(N bytes)` for a line over 512 bytes. */
  line: string;
  /** Upper case; undefined when the line could not be read. */
  verb: string | undefined;
  /** The request's arguments as text, secrets `***`. */
  args: Record<string, string>;
  outcome: RequestOutcome;
  /** The error code when the terminal answered without executing (400, 404, 413, 460, 503). */
  code?: number;
}

export interface RecordedExecution {
  connection: string;
  /** The request line, secrets masked. */
  line: string;
  verb: string;
  args: Record<string, string>;
  /** `OK` or `ERR <code> <reason>`. */
  reply: string;
  /** The reply never reached the wire (a drop, or a reboot after executing). */
  replyDropped: boolean;
}

export interface RecordedLine {
  connection: string;
  /** The line as written, without its CRLF. */
  text: string;
}

export interface Recording {
  readonly requests: readonly RecordedRequest[];
  readonly executed: readonly RecordedExecution[];
  readonly sent: readonly RecordedLine[];
}

/** The terminal's side: where it reports what happened. A no-op when recording is off. */
export interface Recorder {
  request(connection: string, rawLine: string, outcome: RequestOutcome, code?: number): void;
  executed(connection: string, rawLine: string, reply: string, replyDropped: boolean): void;
  sent(connection: string, text: string): void;
}

export const noRecorder: Recorder = { request() {}, executed() {}, sent() {} };

/** The verb and arguments of a masked line, as text. */
function readMasked(masked: string): { verb: string | undefined; args: Record<string, string> } {
  const parsed = parseLine(masked);
  if (!parsed.ok) return { verb: undefined, args: {} };
  const args: Record<string, string> = {};
  for (const { key, value } of parsed.line.fields) args[key] = displayText(value);
  return { verb: parsed.line.words[0]?.toUpperCase(), args };
}

export class MemoryRecorder implements Recorder {
  private readonly requests: RecordedRequest[] = [];
  private readonly executions: RecordedExecution[] = [];
  private readonly lines: RecordedLine[] = [];

  request(connection: string, rawLine: string, outcome: RequestOutcome, code?: number): void {
    const line = rawLine.startsWith('(') ? rawLine : maskLine(rawLine);
    const entry: RecordedRequest = { connection, line, ...readMasked(line), outcome };
    if (code !== undefined) entry.code = code;
    this.requests.push(entry);
  }

  executed(connection: string, rawLine: string, reply: string, replyDropped: boolean): void {
    const line = maskLine(rawLine);
    const { verb, args } = readMasked(line);
    this.executions.push({ connection, line, verb: verb ?? '', args, reply, replyDropped });
  }

  sent(connection: string, text: string): void {
    this.lines.push({ connection, text });
  }

  /** A copy of everything so far. */
  snapshot(): Recording {
    return { requests: [...this.requests], executed: [...this.executions], sent: [...this.lines] };
  }

  clear(): void {
    this.requests.length = 0;
    this.executions.length = 0;
    this.lines.length = 0;
  }
}
