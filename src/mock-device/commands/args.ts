/**
 * Reading argument values. Values are bytes on the wire: identifiers and numbers must be
 * printable ASCII, text fields valid UTF-8 (else 422, docs/protocol.md §5), passwords are compared byte for
 * byte (the policy rejects anything outside 0x20-0x7E).
 */
import { asciiOf, decodeText, fitEncoded, MAX_ECHOED_KEY, type Request } from '../../protocol/index.js';

/** The value as ASCII, or undefined when absent or not printable ASCII. */
export function asciiArg(request: Request, key: string): string | undefined {
  const value = request.args.get(key);
  return value === undefined ? undefined : asciiOf(value);
}

export type TextArg = { given: false } | { given: true; text: string | undefined };

/** A UTF-8 text argument: `text` undefined when its bytes are not valid UTF-8. */
export function textArg(request: Request, key: string): TextArg {
  const value = request.args.get(key);
  return value === undefined ? { given: false } : { given: true, text: decodeText(value) };
}

/** A password argument: one char per byte, so every byte string compares and checks exactly. */
export function secretArg(request: Request, key: string): string | undefined {
  const value = request.args.get(key);
  return value === undefined ? undefined : String.fromCharCode(...value);
}

/** An echoed value (an unknown key or check), fitted by echoBytes. */
export function echoArg(request: Request, key: string): Uint8Array {
  return echoBytes(request.args.get(key) ?? new Uint8Array());
}

/** Bytes echoed in a reply (`key=`, `check=`): at most MAX_ECHOED_KEY bytes as written (D47). */
export function echoBytes(value: Uint8Array): Uint8Array {
  return fitEncoded(value, MAX_ECHOED_KEY);
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return a.every((byte, i) => byte === b[i]);
}
