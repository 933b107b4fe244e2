import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  codeOfSlug,
  decodeText,
  type ErrorSlug,
  encodeLine,
  encodeOk,
  encodeValue,
  type Frame,
  LineSplitter,
  LineSplitterStream,
  MAX_ECHOED_KEY,
  MAX_FREE_TEXT,
  MAX_LINE_BYTES,
  maskLine,
  parseLine,
  parseReply,
  readRequest,
  toBytes,
  type ValueInput,
  VERBS,
} from '../../src/protocol/index.js';
import { PRINTABLE } from '../support/constants.js';

const RUNS = { numRuns: 1000 };
const CR = 0x0d;
const LF = 0x0a;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const keyArb = fc.stringMatching(/^[a-z][a-z0-9_.]{0,11}$/);
const wordArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,9}$/);
const idArb = fc.stringMatching(/^[0-9]{1,8}$/);
const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const trickyChar = fc.constantFrom(
  '"',
  '\\',
  ' ',
  '  ',
  '=',
  '*',
  '@',
  'x',
  '\\x4',
  '\\xZZ',
  'é',
  '密',
  '😀',
  '\u0000',
  '\u007f',
);

/** Every kind of value a sender may write: raw bytes (all 256 values), text, numbers. */
const valueArb: fc.Arbitrary<ValueInput> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc.uint8Array({ minLength: 256, maxLength: 256 }),
  fc.string({ unit: trickyChar, maxLength: 16 }),
  fc.string({ unit: printableChar, maxLength: 32 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.stringMatching(/^[A-Za-z0-9_.:,+/-]{1,12}$/),
  fc.integer(),
  fc.constant(''),
  fc.constant(Uint8Array.from({ length: 256 }, (_, i) => i)),
);

/** A valid request of a known verb, with its required and some optional arguments. */
const requestArb = fc
  .record({
    verb: fc.constantFrom(...VERBS),
    verbCase: fc.constantFrom('upper', 'lower', 'mixed'),
    id: fc.option(idArb, { nil: undefined }),
    crc: fc.boolean(),
    values: fc.array(valueArb, { minLength: 4, maxLength: 4 }),
    optional: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  })
  .map(({ verb, verbCase, id, crc, values, optional }) => {
    const args = Object.entries(COMMANDS[verb].args as Record<string, { required: boolean }>)
      .filter(([, spec], i) => spec.required || optional[i])
      .map(([key], i) => [key, values[i]!] as const);
    const word =
      verbCase === 'upper'
        ? verb
        : verbCase === 'lower'
          ? verb.toLowerCase()
          : [...verb].map((c, i) => (i % 2 ? c.toLowerCase() : c)).join('');
    return { verb, word, id, crc, args };
  });

/** Content of one line (no terminator): valid requests, garbage, near-limit and over-long lines. */
const lineContentArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  requestArb.map(({ word, id, crc, args }) => ascii(encodeLine({ id, words: [word], fields: args, crc }))),
  fc.uint8Array({ maxLength: 80 }),
  fc.string({ unit: printableChar, maxLength: 80 }).map(ascii),
  fc.constantFrom('', ' ', '   ', '\t').map(ascii),
  fc
    .record({ length: fc.integer({ min: 505, max: 520 }), fill: printableChar })
    .map(({ length, fill }) => ascii(fill.repeat(length))),
  fc
    .record({ length: fc.integer({ min: 513, max: 3000 }), bad: fc.boolean() })
    .map(({ length, bad }) => new Uint8Array(length).fill(bad ? 0xff : 0x41)),
);
const terminatorArb = fc.constantFrom('\r', '\n', '\r\n', '\n\r', '\r\r\n', '');

/** A byte stream of lines with random terminators. */
const streamArb = fc
  .array(fc.tuple(lineContentArb, terminatorArb), { maxLength: 12 })
  .map((lines) => concat(lines.flatMap(([content, end]) => [content, ascii(end)])));

/** Split a stream at the given points (any order, repeats allowed: empty chunks included). */
function chunksAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b), data.length];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(data.subarray(points[i - 1], points[i]));
  return chunks;
}

function framesOf(chunks: Uint8Array[]): Frame[] {
  const splitter = new LineSplitter();
  const frames = chunks.flatMap((chunk) => splitter.push(chunk));
  expect(splitter.pendingBytes).toBeLessThanOrEqual(MAX_LINE_BYTES);
  return frames;
}

/** An independent model of the framing rules (docs/protocol.md D1-D3). */
function modelFrames(data: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== CR && data[i] !== LF) continue;
    const line = data.subarray(start, i);
    start = i + 1;
    if (line.length > MAX_LINE_BYTES) frames.push({ kind: 'too-long', length: line.length });
    else if (line.every((b) => b === 0x20)) continue;
    else {
      const text = String.fromCharCode(...line);
      const offset = line.findIndex((b) => b < 0x20 || b > 0x7e);
      frames.push(offset < 0 ? { kind: 'line', text } : { kind: 'bad-bytes', text, offset });
    }
  }
  return frames;
}

const REJECTION_CODES = new Set([400, 404, 413, 460]);

/** readRequest's result is one of the typed outcomes, well formed. */
function expectTyped(frame: Frame): void {
  const result = readRequest(frame);
  if (result.ok) {
    const { request } = result;
    expect(frame.kind).toBe('line');
    expect(VERBS).toContain(request.verb);
    expect(typeof request.crc).toBe('boolean');
    if (frame.kind === 'line') expect(request.raw).toBe(frame.text);
    if (request.id !== undefined) expect(request.id).toMatch(/^[0-9]{1,8}$/);
    const spec = COMMANDS[request.verb].args as Record<string, { required: boolean }>;
    for (const key of request.args.keys()) expect(Object.hasOwn(spec, key)).toBe(true);
    for (const [key, arg] of Object.entries(spec)) if (arg.required) expect(request.args.has(key)).toBe(true);
    return;
  }
  const { rejection } = result;
  expect(REJECTION_CODES.has(rejection.code)).toBe(true);
  expect(codeOfSlug(rejection.reason as ErrorSlug)).toBe(rejection.code);
  expect(typeof rejection.crc).toBe('boolean');
  if (rejection.id !== undefined) expect(rejection.id).toMatch(/^[0-9]{1,8}$/);
  // As written (D47): quotes and escapes count.
  if (rejection.key !== undefined)
    expect(encodeValue(rejection.key).length).toBeLessThanOrEqual(MAX_ECHOED_KEY);
  if (rejection.msg !== undefined)
    expect(encodeValue(rejection.msg).length).toBeLessThanOrEqual(MAX_FREE_TEXT);
  if (rejection.code === 413) {
    expect(frame.kind).toBe('too-long');
    expect(rejection.id).toBeUndefined();
    expect(rejection.crc).toBe(false);
  }
  if (frame.kind === 'too-long') expect(rejection.code).toBe(413);
  if (frame.kind === 'bad-bytes') expect(rejection.code).toBe(400);
  if (rejection.code === 460) expect(rejection.crc).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// (a) encode -> parse identity
// ---------------------------------------------------------------------------------------------

describe('(a) encodeLine -> parseLine is the identity', () => {
  it('on words, ID, CRC flag and every field value, as printable ASCII', () => {
    fc.assert(
      fc.property(
        fc.option(idArb, { nil: undefined }),
        fc.array(wordArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(keyArb, valueArb), { maxLength: 6 }),
        fc.boolean(),
        (id, words, fields, crc) => {
          const text = encodeLine({ id, words, fields, crc });
          expect(text).toMatch(PRINTABLE);
          const result = parseLine(text);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          const { line } = result;
          expect(line.id).toBe(id);
          expect(line.words).toEqual(words);
          expect(line.crc).toBe(crc);
          expect(line.fields.map((f) => f.key)).toEqual(fields.map(([key]) => key));
          line.fields.forEach((field, i) => {
            const value = fields[i]![1];
            expect(field.value).toEqual(toBytes(value));
            if (typeof value === 'string') expect(decodeText(field.value)).toBe(value);
          });
        },
      ),
      RUNS,
    );
  });

  it('on single values: encodeValue is printable and decodes to the same bytes', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const encoded = encodeValue(value);
        expect(encoded).toMatch(PRINTABLE);
        expect(encoded.length).toBeGreaterThan(0);
        const result = parseLine(`X v=${encoded}`);
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.line.fields[0]!.value).toEqual(toBytes(value));
      }),
      RUNS,
    );
  });

  it('through the splitter and readRequest: a valid request arrives with the same verb, ID and args', () => {
    fc.assert(
      fc.property(
        requestArb,
        terminatorArb.filter((t) => t !== ''),
        ({ verb, word, id, crc, args }, end) => {
          const text = encodeLine({ id, words: [word], fields: args, crc });
          fc.pre(text.length <= MAX_LINE_BYTES);
          const frames = new LineSplitter().push(ascii(text + end));
          expect(frames).toEqual([{ kind: 'line', text }]);
          const result = readRequest(frames[0]!);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.request.verb).toBe(verb);
          expect(result.request.id).toBe(id);
          expect(result.request.crc).toBe(crc);
          expect(result.request.raw).toBe(text);
          expect([...result.request.args.entries()]).toEqual(
            args.map(([key, value]) => [key, toBytes(value)]),
          );
        },
      ),
      RUNS,
    );
  });

  it('for replies: parseReply reads back what encodeOk writes', () => {
    fc.assert(
      fc.property(
        fc.option(idArb, { nil: undefined }),
        fc.boolean(),
        fc.uniqueArray(fc.tuple(keyArb, fc.string({ unit: 'binary', maxLength: 20 })), {
          selector: ([key]) => key,
          maxLength: 6,
        }),
        (id, crc, fields) => {
          const text = encodeOk({ id, crc }, fields);
          expect(text).toMatch(PRINTABLE);
          const result = parseReply(text);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.reply.kind).toBe('ok');
          expect(result.reply.id).toBe(id);
          expect(result.reply.crc).toBe(crc);
          expect(result.reply.fields).toEqual(Object.fromEntries(fields));
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) framing does not depend on chunking
// ---------------------------------------------------------------------------------------------

describe('(b) any chunking of a byte stream gives the same frames', () => {
  it('as feeding it whole, and as the framing model', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 40 }), (data, cuts) => {
        const whole = framesOf([data]);
        expect(framesOf(chunksAt(data, cuts))).toEqual(whole);
        expect(whole).toEqual(modelFrames(data));
      }),
      RUNS,
    );
  });

  it('fed one byte at a time', () => {
    fc.assert(
      fc.property(streamArb, (data) => {
        const bytes = Array.from(data, (b) => Uint8Array.of(b));
        expect(framesOf(bytes)).toEqual(framesOf([data]));
      }),
      RUNS,
    );
  });

  it('through LineSplitterStream too', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, fc.array(fc.nat(), { maxLength: 20 }), async (data, cuts) => {
        const frames: Frame[] = [];
        const stream = new LineSplitterStream();
        stream.on('data', (frame: Frame) => frames.push(frame));
        const chunks = chunksAt(data, cuts).map((c) => Buffer.from(c));
        await pipeline(Readable.from(chunks), stream);
        expect(frames).toEqual(framesOf([data]));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) garbage never throws and yields only typed results
// ---------------------------------------------------------------------------------------------

/** Fragments that push a random line towards the parser's edge cases. */
const fragmentArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc
    .constantFrom(
      'HELLO',
      'login',
      'PASSWD',
      'USER-ADD',
      'FROB',
      'EVT',
      'OK',
      '@',
      '@12 ',
      '@123456789',
      ' ',
      '   ',
      ' *',
      ' *29B1',
      ' *zz',
      '*',
      'user=',
      'password=',
      'key=',
      'value=',
      'id=01',
      'K=',
      '=',
      '"',
      '\\',
      '\\x',
      '\\xFF',
      '\\x4',
      '""',
      '\r',
      '\n',
      '\r\n',
    )
    .map(ascii),
  requestArb.map(({ word, id, crc, args }) => ascii(encodeLine({ id, words: [word], fields: args, crc }))),
);

describe('(c) garbage never throws', () => {
  it('random bytes through LineSplitter and readRequest give only typed results', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        for (const frame of framesOf([data, ascii('\r\n')])) expectTyped(frame);
      }),
      RUNS,
    );
  });

  it('random fragments through LineSplitter and readRequest give only typed results', () => {
    fc.assert(
      fc.property(fc.array(fragmentArb, { maxLength: 40 }), (fragments) => {
        for (const frame of framesOf([...fragments, ascii('\n')])) expectTyped(frame);
      }),
      RUNS,
    );
  });

  it('readRequest on any line frame text (fragments, printable or not) never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fragmentArb, { maxLength: 20 }).map((parts) => String.fromCharCode(...concat(parts))),
          fc.string({ unit: printableChar, maxLength: 200 }),
        ),
        (text) => {
          expectTyped({ kind: 'line', text });
        },
      ),
      RUNS,
    );
  });

  it('parseReply on arbitrary printable strings never throws and gives a typed result', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: printableChar, maxLength: 200 }),
          fc
            .array(fragmentArb, { maxLength: 20 })
            .map((parts) => String.fromCharCode(...concat(parts).filter((b) => b >= 0x20 && b <= 0x7e))),
          fc
            .tuple(
              fc.constantFrom('OK', 'ERR', 'DATA', 'EVT', 'EVT boot', '@1 OK', '@1 EVT x'),
              fc.string({ unit: printableChar }),
            )
            .map(([head, rest]) => `${head} ${rest}`),
        ),
        (text) => {
          const result = parseReply(text);
          if (result.ok) {
            expect(['data', 'ok', 'err', 'evt']).toContain(result.reply.kind);
            if (result.reply.kind === 'evt') {
              expect(result.reply.id).toBeUndefined();
              expect(typeof result.reply.event).toBe('string');
            }
            for (const value of Object.values(result.reply.fields)) expect(typeof value).toBe('string');
          } else {
            expect(typeof result.problem).toBe('string');
            expect(typeof result.crcBad).toBe('boolean');
          }
        },
      ),
      RUNS,
    );
  });

  it('parseLine, parseReply and maskLine on arbitrary strings (any code points) never throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ unit: trickyChar })),
        (text) => {
          expect(() => parseLine(text)).not.toThrow();
          expect(() => parseReply(text)).not.toThrow();
          expect(() => maskLine(text)).not.toThrow();
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (d) maskLine never leaks a password
// ---------------------------------------------------------------------------------------------

/** Every generated secret starts with this, and no other generated text contains it. */
const MARK = 'QZJ';
const secretArb = fc
  .oneof(
    fc.string({ unit: printableChar, minLength: 3, maxLength: 29 }),
    fc.string({ unit: trickyChar, minLength: 3, maxLength: 10 }),
  )
  .map((rest) => `${MARK}${rest}`);
const harmlessArb = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', '"', '\\', 'é', '0', '1', '.'),
  maxLength: 12,
});

const secretLineArb = fc
  .record({
    kind: fc.constantFrom('LOGIN', 'PASSWD', 'PASSWD-admin', 'USER-ADD'),
    secrets: fc.array(secretArb, { minLength: 3, maxLength: 3 }),
    user: fc.constantFrom('admin', '01', '02', '99'),
    name: harmlessArb,
    id: fc.option(idArb, { nil: undefined }),
    crc: fc.boolean(),
    verbCase: fc.constantFrom('upper', 'lower'),
    shuffle: fc.nat(),
    repeat: fc.boolean(),
  })
  .map(({ kind, secrets, user, name, id, crc, verbCase, shuffle, repeat }) => {
    const [a, b, c] = secrets as [string, string, string];
    let verb: string;
    let fields: [string, ValueInput][];
    switch (kind) {
      case 'LOGIN':
        verb = 'LOGIN';
        fields = [
          ['user', user],
          ['password', a],
        ];
        break;
      case 'PASSWD':
        verb = 'PASSWD';
        fields = [
          ['old', a],
          ['new', b],
          ['confirm', c],
        ];
        break;
      case 'PASSWD-admin':
        verb = 'PASSWD';
        fields = [
          ['user', user],
          ['new', a],
        ];
        break;
      default:
        verb = 'USER-ADD';
        fields = [
          ['id', user === 'admin' ? '03' : user],
          ['name', name],
          ['perms', 'sale,query'],
          ['password', a],
        ];
    }
    if (repeat) fields.push([fields[fields.length - 1]![0], b]);
    const k = shuffle % fields.length;
    fields = [...fields.slice(k), ...fields.slice(0, k)];
    const word = verbCase === 'lower' ? verb.toLowerCase() : verb;
    const used = fields
      .map(([, v]) => v)
      .filter((v): v is string => typeof v === 'string' && v.startsWith(MARK));
    return { text: encodeLine({ id, words: [word], fields, crc }), secrets: used };
  });

/** Ways a line gets mangled on a noisy wire or by a person typing: all must still be masked. */
const mangleArb = fc.oneof(
  fc.constant((text: string) => text),
  fc.constant((text: string) => `   ${text.replaceAll(' ', '   ')}  `),
  fc.constant((text: string) => `${text} *0000`),
  fc.constant((text: string) => text.replace(/\*[0-9A-F]{4}$/, '*FFFF')),
  fc
    .constantFrom(' "', ' x"y', ' BAD=1', ' extra', ' =', ' *', ' @', ' k="')
    .map((tail) => (text: string) => text + tail),
  fc.constantFrom('@ ', '@123456789 ', '"', 'FROB ', 'user=x ').map((head) => (text: string) => head + text),
  fc.constant((text: string) => text.replace(/^(@[0-9]+ )?[A-Za-z-]+/, '$1FROB')),
  fc.constant((text: string) => text.replace(/^(@[0-9]+ )?[A-Za-z-]+/, '$1HELLO')),
  fc.constant((text: string) => text.replace(/^(@[0-9]+ )?[A-Za-z-]+/, '$1USER-SET')),
);

describe('(d) maskLine never leaks a secret', () => {
  it('hides every password of a LOGIN, PASSWD or USER-ADD line, mangled or not', () => {
    fc.assert(
      fc.property(secretLineArb, mangleArb, ({ text, secrets }, mangle) => {
        const line = mangle(text);
        let masked = '';
        expect(() => {
          masked = maskLine(line);
        }).not.toThrow();
        expect(masked).not.toContain(MARK);
        for (const secret of secrets) {
          expect(masked).not.toContain(secret);
          expect(masked).not.toContain(encodeValue(secret).replace(/^"|"$/g, ''));
        }
      }),
      RUNS,
    );
  });

  it('hides the settlement account of a SET line, mangled or not', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9]{5,31}$/).map((rest) => `${MARK}${rest}`),
        fc.option(idArb, { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        mangleArb,
        (account, id, crc, valueFirst, mangle) => {
          const fields: [string, string][] = [
            ['key', 'settle.account'],
            ['value', account],
          ];
          if (valueFirst) fields.reverse();
          const line = mangle(encodeLine({ id, words: ['SET'], fields, crc }));
          expect(maskLine(line)).not.toContain(MARK);
        },
      ),
      RUNS,
    );
  });

  it('keeps a masked line parseable when the original was, with a valid CRC when it had one', () => {
    fc.assert(
      fc.property(secretLineArb, ({ text }) => {
        const masked = maskLine(text);
        const before = parseLine(text);
        const after = parseLine(masked);
        expect(before.ok).toBe(true);
        expect(after.ok).toBe(true);
        if (before.ok && after.ok) {
          expect(after.line.id).toBe(before.line.id);
          expect(after.line.words).toEqual(before.line.words);
          expect(after.line.crc).toBe(before.line.crc);
          expect(after.line.fields.map((f) => f.key)).toEqual(before.line.fields.map((f) => f.key));
        }
      }),
      RUNS,
    );
  });
});
