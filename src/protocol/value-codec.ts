/**
 * TSP/1 values: a bare token `[A-Za-z0-9_.:,+/-]+`, or a double-quoted string whose escapes are
 * `\"`, `\\` and `\xHH` (either hex case accepted, upper case written). Values are bytes: text is
 * UTF-8, and any byte may be escaped, so every byte string round-trips.
 */
const BARE = /^[A-Za-z0-9_.:,+/-]+$/;
const HEX = '0123456789ABCDEF';
const utf8Encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// One decoder for every call: without `stream` each decode() starts afresh, and building a decoder
// per field was a measurable share of the host's time per reply line.
const lenientUtf8 = new TextDecoder('utf-8');

export type ValueInput = string | number | Uint8Array;

export function isBareToken(text: string): boolean {
  return BARE.test(text);
}

export function toBytes(value: ValueInput): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return utf8Encoder.encode(String(value));
}

/** Encode a value for the wire: bare when it can be, quoted otherwise (`""` when empty). */
export function encodeValue(value: ValueInput): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' && isBareToken(value)) return value;
  const bytes = toBytes(value);
  if (typeof value !== 'string') {
    const ascii = asciiOf(bytes);
    if (ascii !== undefined && isBareToken(ascii)) return ascii;
  }
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
    else out += `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return `${out}"`;
}

/** Strict UTF-8 decoding: undefined when the bytes are not valid UTF-8 (a 422 for text fields). */
export function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Lenient decoding for display (invalid sequences become U+FFFD). */
export function displayText(bytes: Uint8Array): string {
  return lenientUtf8.decode(bytes);
}

/** Bytes of a value as ASCII when they are all printable ASCII, else undefined. */
export function asciiOf(bytes: Uint8Array): string | undefined {
  let text = '';
  for (const byte of bytes) {
    if (byte < 0x20 || byte > 0x7e) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * The longest start of `value` whose canonical encoding (quotes and escapes included) is at most
 * `max` bytes: echoed keys and checks, `msg` and `hint` are bounded as written (docs/protocol.md
 * D47), so `\xHH` escapes count four bytes each.
 */
export function fitEncoded<T extends string | Uint8Array>(value: T, max: number): T {
  // Every byte writes as at least one, and the written length grows with the value.
  let length = Math.min(value.length, max);
  while (length > 0 && encodeValue(value.slice(0, length)).length > max) length--;
  return value.slice(0, length) as T;
}

/** Free text for people (`msg`): printable ASCII (anything else becomes `?`), fitted to `max` as written. */
export function freeText(text: string, max: number): string {
  return fitEncoded(text.replace(/[^\x20-\x7e]/g, '?'), max);
}
