import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type Frame, LineSplitter, LineSplitterStream, MAX_LINE_BYTES } from '../../src/protocol/index.js';

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function split(...chunks: (string | Uint8Array)[]): Frame[] {
  const splitter = new LineSplitter();
  return chunks.flatMap((chunk) => splitter.push(typeof chunk === 'string' ? bytes(chunk) : chunk));
}

const line = (text: string): Frame => ({ kind: 'line', text });

describe('LineSplitter terminators', () => {
  it('ends a line at CR', () => {
    expect(split('HELLO\rSTATUS\r')).toEqual([line('HELLO'), line('STATUS')]);
  });

  it('ends a line at LF', () => {
    expect(split('HELLO\nSTATUS\n')).toEqual([line('HELLO'), line('STATUS')]);
  });

  it('ends a line at CRLF, once', () => {
    expect(split('HELLO\r\nSTATUS\r\n')).toEqual([line('HELLO'), line('STATUS')]);
  });

  it('treats a CRLF split across two chunks as one terminator', () => {
    expect(split('HELLO\r', '\nSTATUS\r', '\n')).toEqual([line('HELLO'), line('STATUS')]);
  });

  it('treats a CRLF split across three chunks (CR alone, LF alone) as one terminator', () => {
    expect(split('HEL', 'LO\r', '\n', 'STATUS', '\r', '\n')).toEqual([line('HELLO'), line('STATUS')]);
  });

  it('keeps a line without a terminator pending until the terminator comes', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes('HEL'))).toEqual([]);
    expect(splitter.pendingBytes).toBe(3);
    expect(splitter.push(bytes('LO'))).toEqual([]);
    expect(splitter.push(bytes('\r'))).toEqual([line('HELLO')]);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('accepts an empty chunk', () => {
    expect(split('', 'HELLO', '', '\n', '')).toEqual([line('HELLO')]);
  });

  it('reset() forgets a partial line', () => {
    const splitter = new LineSplitter();
    splitter.push(bytes('garbage'));
    splitter.reset();
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.push(bytes('HELLO\n'))).toEqual([line('HELLO')]);
  });
});

describe('LineSplitter empty and blank lines', () => {
  it('drops empty lines, whatever the terminator sequence', () => {
    expect(split('\r\n\r\n\n\r\r\n\rHELLO\n\n\r\r')).toEqual([line('HELLO')]);
  });

  it('drops lines of only spaces', () => {
    expect(split(' \r   \n        \r\nHELLO\r\n')).toEqual([line('HELLO')]);
  });

  it('keeps leading and trailing spaces of a non-blank line (the CRC covers them)', () => {
    expect(split('  HELLO  \r\n')).toEqual([line('  HELLO  ')]);
  });
});

describe('LineSplitter length limit', () => {
  it('is 512 bytes', () => {
    expect(MAX_LINE_BYTES).toBe(512);
  });

  it('accepts a line of exactly 512 bytes', () => {
    const text = 'A'.repeat(512);
    expect(split(`${text}\r\n`)).toEqual([line(text)]);
  });

  it('reports a line of 513 bytes as too long, with its length', () => {
    expect(split(`${'A'.repeat(513)}\r\n`)).toEqual([{ kind: 'too-long', length: 513 }]);
  });

  it('counts every byte of a too-long line, across chunks', () => {
    expect(split('A'.repeat(300), 'B'.repeat(300), 'C'.repeat(400), '\n')).toEqual([
      { kind: 'too-long', length: 1000 },
    ]);
  });

  it('yields a too-long line and then the normal line that follows it', () => {
    expect(split(`${'X'.repeat(600)}\r\nHELLO\r\n`)).toEqual([
      { kind: 'too-long', length: 600 },
      line('HELLO'),
    ]);
  });

  it('reports a too-long line of bad bytes as too long (413 comes before 400)', () => {
    expect(split(new Uint8Array(700).fill(0xff), '\n')).toEqual([{ kind: 'too-long', length: 700 }]);
  });

  it('honours a smaller limit given to the constructor', () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push(bytes('ABCD\nABCDE\n'))).toEqual([line('ABCD'), { kind: 'too-long', length: 5 }]);
  });
});

describe('LineSplitter bad bytes', () => {
  for (const bad of [0x00, 0x09, 0x7f, 0x80, 0xff]) {
    const hex = bad.toString(16).padStart(2, '0');
    it(`reports byte 0x${hex} as bad, with its offset`, () => {
      const chunk = Uint8Array.from([...bytes('@7 HELLO'), bad, ...bytes(' x'), 0x0d, 0x0a]);
      expect(split(chunk)).toEqual([
        { kind: 'bad-bytes', text: `@7 HELLO${String.fromCharCode(bad)} x`, offset: 8 },
      ]);
    });
  }

  it('reports the offset of the first bad byte when there are several', () => {
    const frames = split(Uint8Array.from([0x41, 0x42, 0x00, 0x43, 0xff, 0x0a]));
    expect(frames).toEqual([{ kind: 'bad-bytes', text: 'AB\u0000C\u00ff', offset: 2 }]);
  });

  it('reports a bad byte at offset 0', () => {
    expect(split(Uint8Array.from([0x80, 0x41, 0x0d]))).toEqual([
      { kind: 'bad-bytes', text: '\u0080A', offset: 0 },
    ]);
  });

  it('counts the offset across chunks', () => {
    expect(split('LOGIN ', Uint8Array.from([0x7f]), '\n')).toEqual([
      { kind: 'bad-bytes', text: 'LOGIN \u007f', offset: 6 },
    ]);
  });

  it('does not carry a bad byte over into the next line', () => {
    expect(split(Uint8Array.from([0x00, 0x0a]), 'HELLO\n')).toEqual([
      { kind: 'bad-bytes', text: '\u0000', offset: 0 },
      line('HELLO'),
    ]);
  });

  it('accepts every printable byte 0x20-0x7E as a line', () => {
    const printable = Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    expect(split(`${printable}\n`)).toEqual([line(printable)]);
  });
});

describe('LineSplitter memory', () => {
  function collectGarbage(): (() => void) | undefined {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') return exposed;
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as unknown;
      return typeof gc === 'function' ? (gc as () => void) : undefined;
    } catch {
      return undefined;
    }
  }

  it('holds at most 512 bytes of a 10 MB line without a terminator, fed in 64 KiB chunks', () => {
    const gc = collectGarbage();
    const splitter = new LineSplitter();
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const total = 10 * 1024 * 1024;
    // Warm up (JIT, the first frame arrays) before measuring.
    splitter.push(chunk);
    splitter.reset();
    gc?.();
    const before = process.memoryUsage();

    for (let fed = 0; fed < total; fed += chunk.length) {
      expect(splitter.push(chunk)).toEqual([]);
      expect(splitter.pendingBytes).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
    const internal = (splitter as unknown as { buffer: Uint8Array }).buffer;
    expect(internal.length).toBe(MAX_LINE_BYTES);

    gc?.();
    const after = process.memoryUsage();
    if (gc !== undefined) {
      expect(after.heapUsed - before.heapUsed).toBeLessThan(2 * 1024 * 1024);
      expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(2 * 1024 * 1024);
    }

    expect(splitter.push(bytes('\r\n'))).toEqual([{ kind: 'too-long', length: total }]);
    expect(splitter.push(bytes('HELLO\n'))).toEqual([line('HELLO')]);
  });

  it('can force a garbage collection here (the heap assertion above really ran)', () => {
    expect(collectGarbage()).toBeTypeOf('function');
  });
});

describe('LineSplitterStream', () => {
  async function throughStream(chunks: Uint8Array[]): Promise<Frame[]> {
    const frames: Frame[] = [];
    const stream = new LineSplitterStream();
    stream.on('data', (frame: Frame) => frames.push(frame));
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), stream);
    return frames;
  }

  it('gives the same frames as the class', async () => {
    const chunks = [
      bytes('@1 HELLO *1234\r'),
      bytes('\n\r\n  \nSTATUS\r'),
      bytes(`${'Z'.repeat(700)}\n`),
      Uint8Array.from([0x41, 0x00, 0x42, 0x0a]),
      bytes(`${'Y'.repeat(512)}\rhello\n`),
      bytes('LOGIN user=admin password="a b"\r\n'),
    ];
    const expected = split(...chunks);
    expect(expected).toHaveLength(7);
    expect(await throughStream(chunks)).toEqual(expected);
  });

  it('emits frames as objects, one per line, with a custom limit', async () => {
    const frames: Frame[] = [];
    const stream = new LineSplitterStream(3);
    stream.on('data', (frame: Frame) => frames.push(frame));
    await pipeline(Readable.from([Buffer.from('abc\nabcd\n')]), stream);
    expect(frames).toEqual([line('abc'), { kind: 'too-long', length: 4 }]);
  });
});
