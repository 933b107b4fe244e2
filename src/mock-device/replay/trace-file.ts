/**
 * Reading a wire trace (what `posbridge ... --trace FILE` writes, docs/evidence.md):
 *
 *   # comment lines, `# key: value` header fields among them
 *   2025-01-01T00:00:00.000Z > @1 HELLO proto=1 *4F3E       host to terminal
 *   2025-01-01T00:00:00.004Z < @1 OK proto=1 ... *12AB      terminal to host
 *
 * The timestamp may be left out (`> HELLO`) in a hand-written trace. Blank lines are skipped. The
 * text after the direction is kept byte for byte (trailing spaces too): it is what the wire
 * carried, secrets masked (`password="***"`) and bytes outside printable ASCII written `\xHH`.
 */
import { CodedError } from '../../protocol/index.js';

export type TraceDirection = '>' | '<';

export interface TraceEntry {
  /** `>` host to terminal, `<` terminal to host. */
  direction: TraceDirection;
  /** The wire line as traced (masked, escaped), without terminator. */
  text: string;
  /** Epoch ms of the timestamp, if the line had one. */
  at?: number;
  /** 1-based line number in the file (for messages). */
  lineNo: number;
}

export interface TraceFile {
  entries: TraceEntry[];
  /** `# key: value` lines, in order (a key may repeat). Keys are lower case. */
  fields: Array<{ key: string; value: string }>;
  /** Every `#` line, without the `# ` (for showing the header). */
  comments: string[];
}

/** A wire trace that cannot be read, naming the line. */
export class TraceFormatError extends CodedError<'TRACE_FORMAT'> {
  override name = 'TraceFormatError';
  constructor(
    message: string,
    readonly lineNo: number,
  ) {
    super('TRACE_FORMAT', `line ${lineNo}: ${message}`, { details: { line: lineNo } });
  }
}

const ENTRY = /^(?:([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z) )?([<>]) (.*)$/s;
const FIELD = /^([A-Za-z][A-Za-z0-9-]*): ?(.*)$/s;

export function parseTrace(content: string): TraceFile {
  const entries: TraceEntry[] = [];
  const fields: TraceFile['fields'] = [];
  const comments: string[] = [];
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const comment = line.replace(/^# ?/, '');
      comments.push(comment);
      const field = FIELD.exec(comment);
      if (field) fields.push({ key: field[1]!.toLowerCase(), value: field[2]! });
      return;
    }
    const match = ENTRY.exec(line);
    if (!match)
      throw new TraceFormatError(
        `not a trace line (expected "TIMESTAMP > line" or "TIMESTAMP < line")`,
        lineNo,
      );
    const entry: TraceEntry = { direction: match[2] as TraceDirection, text: match[3]!, lineNo };
    if (match[1] !== undefined) {
      const at = Date.parse(match[1]);
      if (Number.isNaN(at)) throw new TraceFormatError(`bad timestamp ${match[1]}`, lineNo);
      entry.at = at;
    }
    entries.push(entry);
  });
  return { entries, fields, comments };
}

/** The values of a header field, in order. */
export function fieldValues(trace: Pick<TraceFile, 'fields'>, key: string): string[] {
  return trace.fields.filter((f) => f.key === key).map((f) => f.value);
}

/** One trace line, as the daemon writes it. */
export function formatTraceEntry(entry: Pick<TraceEntry, 'direction' | 'text' | 'at'>): string {
  const text = `${entry.direction} ${entry.text}`;
  return entry.at === undefined ? text : `${new Date(entry.at).toISOString()} ${text}`;
}
