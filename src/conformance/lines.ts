/**
 * One line from the terminal, read by the rules every line it writes must follow, whatever it
 * answers: CRLF (§3), at most 512 bytes (§3, D47), printable ASCII (§3), the grammar (§4), a
 * matching upper-case CRC (§6), canonical values and single spaces (§5, §3 "Spaces"), the shape
 * of an ERR (§7, §11) and of an EVT (§9), bounded free text (D47). A line that breaks one of them
 * is still classified as well as it can be, so the exchange knows whether the reply ended.
 */
import { crc16, encodeLine, encodeValue, formatCrc, parseLine, splitCrc } from '../protocol/index.js';
import { MAX_FREE_TEXT, MAX_LINE, SLUG_CODES } from './spec.js';
import type { ReceivedLine } from './wire.js';

export type LineKind = 'data' | 'ok' | 'err' | 'evt' | 'other';

/**
 * The family of rules a problem breaks. `read` problems make a line one that a host discards
 * (§18: a bad CRC, too long, bad bytes, bad grammar), so every check sees them; the others are
 * judged by the group that tests them (runner.ts, GROUP_RULES), so that one fault of the terminal
 * is reported by the checks of its rule, not by every check that happens to meet it.
 */
export type Rule = 'read' | 'terminator' | 'canonical' | 'crc' | 'id' | 'err' | 'evt' | 'text';

export interface Problem {
  rule: Rule;
  /** Starts with the section: `§3: 600 bytes, more than 512`. */
  text: string;
}

export interface TspLine {
  raw: ReceivedLine;
  kind: LineKind;
  id?: string;
  /** The event's name, for `evt`. */
  event?: string;
  /** The line ended with a CRC token (whether or not it matched). */
  crc: boolean;
  /** Field values as text (UTF-8, lenient); the first occurrence of a key counts (§4). */
  fields: Record<string, string>;
  /** Field values as written on the wire (canonical form). */
  written: Record<string, string>;
  /** Keys in the order they came. */
  keys: string[];
  /** Each rule the line breaks. */
  problems: Problem[];
}

const LOOSE = /^ *(?:@([0-9]+) +)?([A-Za-z]+)(?: +([a-z][a-z0-9-]*))?/;
const KINDS: Record<string, LineKind> = { DATA: 'data', OK: 'ok', ERR: 'err', EVT: 'evt' };
const utf8 = new TextDecoder('utf-8');

export function readLine(raw: ReceivedLine): TspLine {
  const problems: Problem[] = [];
  const add = (rule: Rule, text: string) => problems.push({ rule, text });
  const { text } = raw;
  if (raw.terminator !== 'CRLF')
    add('terminator', `§3: the line ends with ${raw.terminator} alone; a terminal writes CRLF`);
  if (raw.length > MAX_LINE) add('read', `§3: ${raw.length} bytes, more than ${MAX_LINE}`);
  const bad = firstBadByte(text);
  if (bad >= 0)
    add('read', `§3: byte 0x${formatByte(text.charCodeAt(bad))} at offset ${bad} is outside 0x20-0x7E`);

  const crcPart = splitCrc(text);
  const body = crcPart ? crcPart.body : text;
  if (crcPart) {
    const written = text.slice(crcPart.body.length + 2, crcPart.body.length + 6);
    if (written !== written.toUpperCase()) add('crc', `§6.1: CRC *${written} is written in lower case`);
    const expected = crc16(body);
    if (expected !== crcPart.crc)
      add(
        'read',
        `§6.2: CRC *${written} does not match the line's bytes (they give *${formatCrc(expected)})`,
      );
  }

  const loose = LOOSE.exec(text);
  const line: TspLine = {
    raw,
    kind: loose ? (KINDS[loose[2]!] ?? 'other') : 'other',
    crc: crcPart !== undefined,
    fields: {},
    written: {},
    keys: [],
    problems,
  };
  if (loose?.[1] !== undefined) line.id = loose[1];
  if (line.kind === 'evt' && loose?.[3] !== undefined) line.event = loose[3];
  if (bad >= 0) return line;

  const parsed = parseLine(body);
  if (!parsed.ok) {
    add('read', `§4: the line does not parse (${parsed.fault.detail})`);
    return line;
  }
  const { words, fields, id } = parsed.line;
  if (id !== undefined) line.id = id;
  else delete line.id;
  for (const field of fields) {
    line.keys.push(field.key);
    if (Object.hasOwn(line.fields, field.key)) continue;
    line.fields[field.key] = utf8.decode(field.value);
    line.written[field.key] = encodeValue(field.value);
  }
  const word = words[0]!;
  const kind = KINDS[word];
  if (kind === undefined) {
    line.kind = 'other';
    add('read', `§7: ${JSON.stringify(word.slice(0, 16))} is not DATA, OK, ERR or EVT (upper case)`);
    return line;
  }
  line.kind = kind;
  if (kind === 'evt') {
    line.event = words[1];
    if (words.length !== 2) add('read', '§4: an event line has exactly two words, EVT and its name');
    if (id !== undefined) add('evt', '§9: an EVT carries no ID');
  } else if (words.length !== 1) {
    add('read', `§4: a reply line has exactly one word, not ${words.length}`);
  }
  const canonical = encodeLine({ id, words, fields: fields.map((f) => [f.key, f.value] as const) });
  if (canonical !== body)
    add('canonical', `§5: not written canonically (single spaces, canonical values): expected ${canonical}`);
  if (kind === 'err') checkErr(line);
  for (const key of ['msg', 'hint'] as const) {
    const value = line.written[key];
    if (value !== undefined && value.length > MAX_FREE_TEXT)
      add('text', `D47: ${key} is ${value.length} bytes as written, more than ${MAX_FREE_TEXT}`);
  }
  return line;
}

function checkErr(line: TspLine): void {
  const { keys, fields, problems } = line;
  const add = (text: string) => problems.push({ rule: 'err', text });
  if (keys[0] !== 'code' || keys[1] !== 'reason') {
    add('§7: an ERR starts with code= and reason=');
    return;
  }
  const code = fields.code!;
  if (!/^[0-9]{3}$/.test(code)) add(`§11: code=${code} is not a three-digit code`);
  const owner = SLUG_CODES[fields.reason!];
  if (owner === undefined) add(`§11: reason=${fields.reason} is not a TSP/1 slug`);
  else if (String(owner) !== code) add(`§11: reason=${fields.reason} belongs to code ${owner}, not ${code}`);
  if (keys.includes('msg') && keys.indexOf('msg') !== keys.length - 1) add('§7: msg= comes last in an ERR');
}

function firstBadByte(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return i;
  }
  return -1;
}

function formatByte(code: number): string {
  return code.toString(16).toUpperCase().padStart(2, '0');
}

/** A line as people read it in a report: bytes outside 0x20-0x7E as ⟨HH⟩ (the document's notation), long lines cut. */
export function showBytes(text: string, max = 160): string {
  let out = '';
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const piece = code >= 0x20 && code <= 0x7e ? text[i]! : `⟨${formatByte(code)}⟩`;
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return i < text.length ? `${out}… (${text.length} bytes)` : out;
}

/** docs/protocol.md §7, D43: an ID is `@` and 1-8 digits followed by a space or the end of the line. */
const LEADING_ID = /^ *@([0-9]{1,8})(?: |$)/;
/** §6.2: a line has a CRC when its last token, trailing spaces ignored, is `*` and four hex digits after a space. */
const CRC_TOKEN = / \*[0-9A-Fa-f]{4} *$/;

export function leadingId(request: string): string | undefined {
  return LEADING_ID.exec(request)?.[1];
}

export function hasCrcToken(request: string): boolean {
  return CRC_TOKEN.test(request);
}
