/**
 * How a wire line is written into a trace: bytes outside printable ASCII as `\xHH`, secrets
 * masked. The daemon writes traces in this form and the mock's replay reads them back, so the
 * form lives here, once.
 */
import { maskLine } from './mask.js';

export function escapeNonPrintable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) out += text[i];
    else out += `\\x${(code & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A wire line made safe to store: non-printable bytes escaped, then secrets masked. */
export function traceText(raw: string): string {
  return maskLine(escapeNonPrintable(raw));
}
