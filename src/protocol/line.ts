/**
 * One TSP/1 line (request, reply or event) as tokens, and back.
 *
 *   line   = [ "@" id SP ] word *( SP word ) *( SP key "=" value ) [ SP "*" crc ]
 *
 * A request has one word (its verb); a reply has `DATA`, `OK` or `ERR`; an event has `EVT` and its
 * name. The CRC covers every byte before the single space that precedes the final `*`, exactly as
 * received (leading and extra spaces included). Receivers ignore leading and trailing spaces and
 * take runs of spaces as one separator; senders write single spaces.
 */
import { crc16, formatCrc } from './crc16.js';
import { MAX_ID_DIGITS } from './limits.js';
import { displayText, encodeValue, isBareToken, type ValueInput } from './value-codec.js';

/** A key=value; `V` is how the value is kept: its bytes (parseLine) or its text (parseLineText). */
export interface Field<V = Uint8Array> {
  key: string;
  /** The value's bytes after unescaping (text is UTF-8), or that text decoded for display. */
  value: V;
}

export interface ParsedLine<V = Uint8Array> {
  /** The `@ID` digits, verbatim (compared as strings). */
  id?: string;
  /** Words before the first key=value: the verb, or `OK`, or `EVT` and its name. */
  words: string[];
  /** In order as received; a key may repeat (a request's validation rejects that). */
  fields: Field<V>[];
  /** True when the line ended with a CRC (already verified). */
  crc: boolean;
}

export type LineFaultKind = 'syntax' | 'bad-crc';

/** Why a line could not be read; carries what could be read so a reply can echo it. */
export interface LineFault {
  fault: LineFaultKind;
  detail: string;
  id?: string;
  /** The line ended with a well-formed CRC token: replies to it carry a CRC. */
  crc: boolean;
  /** The key being read when the syntax broke, if one was. */
  key?: string;
  /** The first word (a request's verb), if it was read before the syntax broke. */
  verb?: string;
  /**
   * `detail` without the words of the line it quotes, when it quotes any: a terminal answering a
   * line that may hold a password says what is wrong without repeating it.
   */
  safeDetail?: string;
}

export type LineResult<V = Uint8Array> = { ok: true; line: ParsedLine<V> } | { ok: false; fault: LineFault };

/** How tokenize keeps a value: from a bare token (ASCII, value-codec.ts) or a quoted one's bytes. */
interface ValueForm<V> {
  bare(token: string): V;
  quoted(bytes: number[]): V;
}

const AS_BYTES: ValueForm<Uint8Array> = {
  bare(token) {
    const bytes = new Uint8Array(token.length);
    for (let i = 0; i < token.length; i++) bytes[i] = token.charCodeAt(i);
    return bytes;
  },
  quoted: (bytes) => Uint8Array.from(bytes),
};

/**
 * Values as display text (invalid UTF-8 shown as U+FFFD). A bare token is ASCII, so its text is
 * the token itself: no byte array and no decoding for it, on every reply line the host reads.
 */
const AS_TEXT: ValueForm<string> = {
  bare: (token) => token,
  quoted: (bytes) => displayText(Uint8Array.from(bytes)),
};

const ID_TOKEN = new RegExp(`^@([0-9]{1,${MAX_ID_DIGITS}})$`);
const WORD = /^[A-Za-z][A-Za-z0-9-]*$/;
const KEY = /^[a-z][a-z0-9_.]*$/;
/** docs/protocol.md §7: an ID is `@` and 1-8 digits followed by a space or the end of the line. */
const LEADING_ID = new RegExp(`^ *@([0-9]{1,${MAX_ID_DIGITS}})(?: |$)`);

/**
 * Where a line's CRC is, if its last token is one: ` *` and four hex digits, then only spaces.
 * `body` is what the CRC covers (everything before that one space). Read from the end by hand:
 * it runs on every line received.
 */
export function splitCrc(text: string): { body: string; crc: number } | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x20) end--;
  const star = end - 5;
  if (star < 1 || text.charCodeAt(star) !== 0x2a || text.charCodeAt(star - 1) !== 0x20) return undefined;
  let crc = 0;
  for (let i = star + 1; i < end; i++) {
    const digit = hexDigit(text.charCodeAt(i));
    if (digit < 0) return undefined;
    crc = (crc << 4) | digit;
  }
  return { body: text.slice(0, star - 1), crc };
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Best-effort ID of a line that cannot be parsed (for echoing it in a 400 or 460). */
export function readLeadingId(text: string): string | undefined {
  return LEADING_ID.exec(text)?.[1];
}

export function parseLine(text: string): LineResult {
  return parseWith(text, AS_BYTES);
}

/**
 * parseLine with each value as display text (displayText of its bytes): what a reply's fields are.
 * The same grammar, faults and CRC check.
 */
export function parseLineText(text: string): LineResult<string> {
  return parseWith(text, AS_TEXT);
}

function parseWith<V>(text: string, form: ValueForm<V>): LineResult<V> {
  const crcPart = splitCrc(text);
  const hasCrc = crcPart !== undefined;
  const body = crcPart ? crcPart.body : text;
  if (crcPart && crc16(crcPart.body) !== crcPart.crc) {
    const id = readLeadingId(body);
    return fail('bad-crc', `CRC mismatch: line says ${formatCrc(crcPart.crc)}`, hasCrc, id);
  }
  return tokenize(body, hasCrc, form);
}

function fail<V>(
  fault: LineFaultKind,
  detail: string,
  crc: boolean,
  id?: string,
  key?: string,
  safeDetail?: string,
): LineResult<V> {
  const result: LineFault = { fault, detail, crc };
  if (id !== undefined) result.id = id;
  if (key !== undefined) result.key = key;
  if (safeDetail !== undefined) result.safeDetail = safeDetail;
  return { ok: false, fault: result };
}

function withVerb<V>(result: LineResult<V>, words: string[]): LineResult<V> {
  if (!result.ok && words[0] !== undefined) result.fault.verb = words[0];
  return result;
}

function tokenize<V>(body: string, crc: boolean, form: ValueForm<V>): LineResult<V> {
  let pos = 0;
  const end = body.length;
  const skipSpaces = () => {
    while (pos < end && body.charCodeAt(pos) === 0x20) pos++;
  };
  const readPlainToken = (): string => {
    const start = pos;
    while (pos < end && body.charCodeAt(pos) !== 0x20) pos++;
    return body.slice(start, pos);
  };

  skipSpaces();
  let id: string | undefined;
  if (body[pos] === '@') {
    const token = readPlainToken();
    const match = ID_TOKEN.exec(token);
    if (!match)
      return fail(
        'syntax',
        `bad ID "${token.slice(0, 16)}": expected @ and 1-8 digits`,
        crc,
        undefined,
        undefined,
        // Too many digits is an ID; anything else after @ may be a password typed alone.
        /^@[0-9]+$/.test(token) ? undefined : 'bad ID: expected @ and 1-8 digits',
      );
    id = match[1];
    skipSpaces();
  }

  const words: string[] = [];
  const fields: Field<V>[] = [];
  /** Why readBare or readQuoted returned undefined. */
  let problem = '';
  // docs/protocol.md D44: a bare word where an argument belongs answers after every grammar error
  // of the line (which may name a key), so it is only remembered here.
  let strayWord: string | undefined;
  while (pos < end) {
    const tokenStart = pos;
    const eq = findEquals(body, pos);
    if (eq < 0) {
      const word = readPlainToken();
      if (word.startsWith('*'))
        return withVerb(fail('syntax', 'malformed CRC: expected * and 4 hex digits', crc, id), words);
      if (!WORD.test(word))
        return withVerb(
          fail(
            'syntax',
            `bad word "${word.slice(0, 16)}"`,
            crc,
            id,
            undefined,
            'a word that is neither a command nor key=value',
          ),
          words,
        );
      if (fields.length > 0) strayWord ??= word;
      else words.push(word);
    } else {
      const key = body.slice(tokenStart, eq);
      // No name could be read (`=1`): the 400 names no key.
      if (!KEY.test(key))
        return withVerb(
          fail(
            'syntax',
            `bad key "${key.slice(0, 16)}"`,
            crc,
            id,
            key || undefined,
            'a malformed argument name (a-z, then a-z 0-9 _ .)',
          ),
          words,
        );
      pos = eq + 1;
      const value = body[pos] === '"' ? readQuoted() : readBare();
      if (value === undefined)
        return withVerb(fail('syntax', `${key.slice(0, 16)}: ${problem}`, crc, id, key, problem), words);
      fields.push({ key, value });
    }
    skipSpaces();
  }
  if (words.length === 0) return fail('syntax', 'no command word', crc, id);
  if (strayWord !== undefined)
    return withVerb(
      fail(
        'syntax',
        `"${strayWord.slice(0, 16)}" is not key=value`,
        crc,
        id,
        undefined,
        'a word after the arguments: write key=value, and quote a value with spaces',
      ),
      words,
    );
  const line: ParsedLine<V> = { words, fields, crc };
  if (id !== undefined) line.id = id;
  return { ok: true, line };

  function invalid(why: string): undefined {
    problem = why;
    return undefined;
  }

  function readBare(): V | undefined {
    const token = readPlainToken();
    if (token.length === 0) return invalid('empty value (write "")');
    if (!isBareToken(token)) return invalid('bad character in value (quote it)');
    return form.bare(token);
  }

  function readQuoted(): V | undefined {
    pos++; // opening quote
    const bytes: number[] = [];
    while (pos < end) {
      const ch = body.charCodeAt(pos);
      if (ch === 0x22) {
        pos++;
        if (pos < end && body.charCodeAt(pos) !== 0x20) return invalid('text after closing quote');
        return form.quoted(bytes);
      }
      if (ch === 0x5c) {
        const next = body[pos + 1];
        if (next === '"' || next === '\\') {
          bytes.push(next.charCodeAt(0));
          pos += 2;
        } else if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(body.slice(pos + 2, pos + 4))) {
          bytes.push(Number.parseInt(body.slice(pos + 2, pos + 4), 16));
          pos += 4;
        } else {
          return invalid('bad escape (use \\", \\\\ or \\xHH)');
        }
        continue;
      }
      bytes.push(ch);
      pos++;
    }
    return invalid('unterminated quoted value');
  }
}

/** Index of the `=` of a key=value token starting at `pos`, or -1 if the token is a plain word. */
function findEquals(body: string, pos: number): number {
  for (let i = pos; i < body.length; i++) {
    const ch = body.charCodeAt(i);
    if (ch === 0x3d) return i;
    if (ch === 0x20 || ch === 0x22) return -1;
  }
  return -1;
}

export interface LineInput {
  id?: string | undefined;
  words: readonly string[];
  fields?: ReadonlyArray<readonly [string, ValueInput]>;
  crc?: boolean;
}

/** Encode a line without its terminator; with `crc`, append ` *XXXX`. */
export function encodeLine(input: LineInput): string {
  let text = input.id !== undefined ? `@${input.id} ` : '';
  text += input.words.join(' ');
  for (const [key, value] of input.fields ?? []) text += ` ${key}=${encodeValue(value)}`;
  return input.crc ? appendCrc(text) : text;
}

export function appendCrc(text: string): string {
  return `${text} *${formatCrc(crc16(text))}`;
}

/** Senders end every line with CRLF. */
export const LINE_END = '\r\n';
