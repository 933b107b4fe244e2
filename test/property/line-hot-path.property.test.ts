/**
 * The hand-written hot paths of line reading (issue 12) against the plain definitions they
 * replaced: splitCrc against its regular expression, the splitter's Latin-1 text against a
 * byte-by-byte decoding, displayText against a fresh lenient decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayText, LineSplitter, splitCrc } from '../../src/protocol/index.js';

const RUNS = { numRuns: 2000 };
const CRC_SUFFIX = / \*([0-9A-Fa-f]{4}) *$/;

function splitCrcByRegex(text: string): { body: string; crc: number } | undefined {
  const match = CRC_SUFFIX.exec(text);
  if (!match) return undefined;
  return { body: text.slice(0, match.index), crc: Number.parseInt(match[1]!, 16) };
}

/** Lines made of the characters that matter to a CRC suffix, so that near misses are common. */
const lineArb = fc
  .array(fc.constantFrom(' ', '*', '0', '9', 'a', 'F', 'f', 'G', 'x', '@', '='), { maxLength: 24 })
  .map((chars) => chars.join(''));

describe('splitCrc', () => {
  it('finds the same CRC and body as / \\*([0-9A-Fa-f]{4}) *$/', () => {
    fc.assert(
      fc.property(fc.oneof(lineArb, fc.string({ maxLength: 40 })), (text) => {
        expect(splitCrc(text)).toEqual(splitCrcByRegex(text));
      }),
      RUNS,
    );
    for (const text of [
      '',
      ' *1234',
      '*1234',
      'OK *12345',
      'OK *1234  ',
      'OK  *ABCD',
      'OK *abcd',
      'OK *12G4',
    ])
      expect(splitCrc(text)).toEqual(splitCrcByRegex(text));
  });
});

describe('LineSplitter text', () => {
  it('is each byte of the line as one character (Latin-1), up to the longest line', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 512 })
          .map((bytes) => bytes.map((b) => (b === 0x0a || b === 0x0d ? 0x41 : b))),
        (bytes) => {
          const frames = new LineSplitter().push(Uint8Array.from([...bytes, 0x0a]));
          const text = Array.from(bytes, (b) => String.fromCharCode(b)).join('');
          const expected = /^ *$/.test(text) ? [] : [text];
          expect(frames.map((f) => ('text' in f ? f.text : ''))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('displayText', () => {
  it('decodes as a new lenient UTF-8 decoder would, call after call (no state carried over)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 6 }), (values) => {
        for (const bytes of values) expect(displayText(bytes)).toBe(new TextDecoder('utf-8').decode(bytes));
      }),
      RUNS,
    );
  });
});
