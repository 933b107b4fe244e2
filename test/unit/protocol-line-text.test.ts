/**
 * parseLineText (src/protocol/line.ts), what parseReply reads every reply line with: the same
 * grammar, faults and CRC check as parseLine, each value as the display text of its bytes, but
 * without building a byte array for a bare token (its text is itself).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendCrc,
  displayText,
  encodeLine,
  type LineResult,
  parseLine,
  parseLineText,
  parseReply,
} from '../../src/protocol/index.js';

/** What parseLineText must give: parseLine's result with each value decoded for display. */
function viaBytes(text: string): LineResult<string> {
  const parsed = parseLine(text);
  if (!parsed.ok) return parsed;
  const fields = parsed.line.fields.map((f) => ({ key: f.key, value: displayText(f.value) }));
  return { ok: true, line: { ...parsed.line, fields } };
}

const key = fc.stringMatching(/^[a-z][a-z0-9_.]{0,8}$/);
const value = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.:,+/-]{1,12}$/),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 12 }),
);

describe('parseLineText', () => {
  it('reads every well-formed line as parseLine does, values as display text (bare, quoted, escaped, invalid UTF-8)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 99_999_999 }), { nil: undefined }),
        fc.constantFrom('OK', 'DATA', 'ERR'),
        fc.array(fc.tuple(key, value), { maxLength: 8 }),
        fc.boolean(),
        (id, word, fields, crc) => {
          const line = encodeLine({
            id: id === undefined ? undefined : String(id),
            words: [word],
            fields,
            crc,
          });
          const text = parseLineText(line);
          expect(text.ok).toBe(true);
          expect(text).toEqual(viaBytes(line));
        },
      ),
    );
  });

  it('gives the same fault as parseLine for any text, well-formed or not', () => {
    const broken = [
      '@1 OK a=',
      '@1 OK a="x"y',
      '@1 OK a="\\q"',
      '@1 OK a="open',
      '@1 OK a=é',
      '@123456789 OK',
      'OK =1',
      '@1 OK a=1 stray',
      appendCrc('@7 OK sn=A1').replace(/.$/, '0'),
    ];
    for (const text of broken) {
      expect(parseLineText(text).ok, text).toBe(false);
      expect(parseLineText(text), text).toEqual(parseLine(text));
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        expect(parseLineText(text)).toEqual(viaBytes(text));
      }),
    );
  });

  it('keeps invalid UTF-8 in a quoted value as U+FFFD in a reply field, a bare token as written', () => {
    const line = appendCrc('@5 OK sn=PX-200/1:a,b msg="caf\\xC3\\xA9 \\xFF"');
    const result = parseReply(line);
    expect(result).toEqual({
      ok: true,
      reply: { kind: 'ok', id: '5', crc: true, fields: { sn: 'PX-200/1:a,b', msg: 'café \uFFFD' } },
    });
  });
});
