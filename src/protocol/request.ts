/**
 * From a received frame to a request the terminal can execute, or to the error that answers it.
 * Applies the first part of TSP/1's fault order: 413, 400 (bytes), 460, 404, 400 (arguments).
 * The rest (401, 403, 428, 422, 423, 409) depends on terminal state and is the terminal's.
 */
import { commandSpec, lookupVerb, type Verb } from './commands.js';
import type { ErrorSlug } from './errors.js';
import { MAX_ECHOED_KEY, MAX_FREE_TEXT } from './limits.js';
import { type ParsedLine, parseLine, readLeadingId, splitCrc } from './line.js';
import type { Frame } from './splitter.js';
import { fitEncoded, freeText } from './value-codec.js';

export interface Request {
  id?: string;
  verb: Verb;
  args: Map<string, Uint8Array>;
  /** Replies carry a CRC. */
  crc: boolean;
  /** The line as received, for replay matching (a retransmission is byte-identical). */
  raw: string;
}

/** An error reply decided before the terminal's state is consulted. */
export interface Rejection {
  code: 400 | 404 | 413 | 460;
  reason: ErrorSlug;
  id?: string;
  /** Reply with a CRC (a 460 always carries one). */
  crc: boolean;
  key?: string;
  msg?: string;
}

export type RequestResult = { ok: true; request: Request } | { ok: false; rejection: Rejection };

function reject(rejection: Rejection): RequestResult {
  // `msg` is free text bounded as written (D47), whatever it quotes.
  if (rejection.msg !== undefined) rejection.msg = freeText(rejection.msg, MAX_FREE_TEXT);
  return { ok: false, rejection };
}

export function readRequest(frame: Frame): RequestResult {
  if (frame.kind === 'too-long') {
    return reject({ code: 413, reason: 'line-too-long', crc: false, msg: `line of ${frame.length} bytes` });
  }
  if (frame.kind === 'bad-bytes') {
    const id = readLeadingId(frame.text);
    const byte = frame.text.charCodeAt(frame.offset).toString(16).toUpperCase().padStart(2, '0');
    return reject({
      code: 400,
      reason: 'syntax',
      crc: splitCrc(frame.text) !== undefined,
      msg: `byte 0x${byte} at offset ${frame.offset} is not printable ASCII`,
      ...(id !== undefined && { id }),
    });
  }
  const parsed = parseLine(frame.text);
  if (!parsed.ok) {
    const { fault } = parsed;
    const base = { crc: fault.crc, msg: fault.detail, ...(fault.id !== undefined && { id: fault.id }) };
    if (fault.fault === 'bad-crc') return reject({ code: 460, reason: 'bad-crc', ...base, crc: true });
    if (fault.verb !== undefined && lookupVerb(fault.verb) === undefined) {
      return reject({
        code: 404,
        reason: 'unknown-command',
        ...base,
        msg: `unknown command ${cut(fault.verb)}`,
      });
    }
    return reject({
      code: 400,
      reason: 'syntax',
      ...base,
      ...(fault.key !== undefined && { key: cut(fault.key) }),
    });
  }
  return checkArguments(parsed.line, frame.text);
}

function checkArguments(line: ParsedLine, raw: string): RequestResult {
  const idPart = line.id !== undefined ? { id: line.id } : {};
  const [word, ...extraWords] = line.words;
  const verb = lookupVerb(word!);
  if (verb === undefined) {
    return reject({
      code: 404,
      reason: 'unknown-command',
      crc: line.crc,
      msg: `unknown command ${cut(word!)}`,
      ...idPart,
    });
  }
  const syntax = (key: string | undefined, msg: string) =>
    reject({
      code: 400,
      reason: 'syntax',
      crc: line.crc,
      msg,
      ...idPart,
      ...(key !== undefined && { key: cut(key) }),
    });
  if (extraWords.length > 0) return syntax(undefined, `unexpected word ${cut(extraWords[0]!)}`);
  const spec = commandSpec(verb);
  const args = new Map<string, Uint8Array>();
  for (const { key, value } of line.fields) {
    if (!Object.hasOwn(spec.args, key)) return syntax(key, `${verb} takes no argument ${cut(key)}`);
    if (args.has(key)) return syntax(key, `${key} given twice`);
    args.set(key, value);
  }
  for (const [name, arg] of Object.entries(spec.args)) {
    if (arg.required && !args.has(name)) return syntax(name, `${verb} needs ${name}=`);
  }
  return { ok: true, request: { verb, args, crc: line.crc, raw, ...idPart } };
}

/** An echoed key or word: at most MAX_ECHOED_KEY bytes as written (D47). */
function cut(text: string): string {
  return fitEncoded(text, MAX_ECHOED_KEY);
}
