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
    const word = /^ *(?:@[0-9]{1,8} +)?([A-Za-z][A-Za-z0-9-]*)/.exec(frame.text)?.[1];
    // Where the byte is and what it is would tell a little of a password typed with an accent.
    const guarded = mayHoldSecret(word === undefined ? undefined : lookupVerb(word));
    return reject({
      code: 400,
      reason: 'syntax',
      crc: splitCrc(frame.text) !== undefined,
      msg: guarded
        ? 'a byte outside printable ASCII (0x20-0x7E)'
        : `byte 0x${byte} at offset ${frame.offset} is not printable ASCII`,
      ...(id !== undefined && { id }),
    });
  }
  const parsed = parseLine(frame.text);
  if (!parsed.ok) {
    const { fault } = parsed;
    const verb = fault.verb === undefined ? undefined : lookupVerb(fault.verb);
    const guarded = mayHoldSecret(verb);
    // The fault of an argument the command takes names only that argument (`value: empty value`).
    const named = fault.key !== undefined && takes(verb, fault.key);
    const msg = guarded && !named ? (fault.safeDetail ?? fault.detail) : fault.detail;
    const base = { crc: fault.crc, msg, ...(fault.id !== undefined && { id: fault.id }) };
    if (fault.fault === 'bad-crc') return reject({ code: 460, reason: 'bad-crc', ...base, crc: true });
    if (fault.verb !== undefined && verb === undefined) {
      return reject({ code: 404, reason: 'unknown-command', ...base, msg: unknownCommand(fault.verb) });
    }
    const key = fault.key !== undefined && (!takesPassword(verb) || named) ? fault.key : undefined;
    return reject({ code: 400, reason: 'syntax', ...base, ...(key !== undefined && { key: cut(key) }) });
  }
  return checkArguments(parsed.line, frame.text);
}

/**
 * A line whose words may hold a secret (docs/protocol.md §10, step 5): its command takes one
 * (LOGIN, PASSWD, USER-ADD), it is SET (the settlement account), or its verb could not be read
 * (`admin:PW` typed alone). Errors about such a line never quote its words or values (a name
 * the command takes may be named): a password typed in the wrong place (`LOGIN admin PW`) must
 * not come back in the reply.
 */
export function mayHoldSecret(verb: Verb | undefined): boolean {
  if (verb === undefined) return true;
  return verb === 'SET' || Object.values(commandSpec(verb).args).some((arg) => arg.secret === true);
}

/**
 * A line whose arguments are passwords (LOGIN, PASSWD, USER-ADD, or a verb not read): a name the
 * command does not take is not echoed in `key=` either, since `Pa55=word` is a password typed
 * where an argument belongs. SET's secret is a value (an account number, never a key name).
 */
function takesPassword(verb: Verb | undefined): boolean {
  return verb === undefined || Object.values(commandSpec(verb).args).some((arg) => arg.secret === true);
}

function takes(verb: Verb | undefined, key: string): boolean {
  return verb !== undefined && Object.hasOwn(commandSpec(verb).args, key);
}

/**
 * The verb is echoed (cut to 64 characters) when it looks like one, letters and `-`: a password
 * typed alone on a line (it has a digit or a sign, by the policy's habits) is not.
 */
function unknownCommand(word: string): string {
  return /^[A-Za-z][A-Za-z-]*$/.test(word) ? `unknown command ${cut(word)}` : 'unknown command';
}

function argumentList(verb: Verb): string {
  return Object.keys(commandSpec(verb).args)
    .map((name) => `${name}=`)
    .join(' ');
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
      msg: unknownCommand(word!),
      ...idPart,
    });
  }
  const guarded = mayHoldSecret(verb);
  const syntax = (key: string | undefined, msg: string) =>
    reject({
      code: 400,
      reason: 'syntax',
      crc: line.crc,
      msg,
      ...idPart,
      ...(key !== undefined && { key: cut(key) }),
    });
  if (extraWords.length > 0) {
    return guarded
      ? syntax(undefined, `${verb} takes no bare word: write ${argumentList(verb)}`)
      : syntax(undefined, `unexpected word ${cut(extraWords[0]!)}`);
  }
  const spec = commandSpec(verb);
  const args = new Map<string, Uint8Array>();
  for (const { key, value } of line.fields) {
    if (!Object.hasOwn(spec.args, key)) {
      return takesPassword(verb)
        ? syntax(undefined, `${verb} takes ${argumentList(verb)} only`)
        : syntax(key, `${verb} takes no argument ${cut(key)}`);
    }
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
