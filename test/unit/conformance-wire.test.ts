/**
 * The suite's own reading of the terminal's output: strict about terminators (a terminal writes
 * CRLF, docs/protocol.md §3), bounded in memory, nothing lost between two exchanges.
 */
import { describe, expect, it } from 'vitest';
import { RawWire, StrictLineReader } from '../../src/conformance/wire.js';
import { createMemoryLink } from '../../src/host/ports/memory.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('StrictLineReader', () => {
  it('reads CRLF lines and says how every line ended', () => {
    const reader = new StrictLineReader();
    const lines = reader.push(bytes('OK a=1\r\nOK b=2\nOK c=3\rOK d=4\r\n'), 7);
    expect(lines.map((l) => [l.text, l.terminator, l.length, l.at])).toEqual([
      ['OK a=1', 'CRLF', 6, 7],
      ['OK b=2', 'LF', 6, 7],
      ['OK c=3', 'CR', 6, 7],
      ['OK d=4', 'CRLF', 6, 7],
    ]);
  });

  it('a CRLF split between two reads is one CRLF; a CR at the end waits for the next byte', () => {
    const reader = new StrictLineReader();
    expect(reader.push(bytes('OK a=1\r'), 0)).toEqual([]);
    expect(reader.push(bytes('\nOK'), 1).map((l) => [l.text, l.terminator])).toEqual([['OK a=1', 'CRLF']]);
    expect(reader.push(bytes(' b=2\r'), 2)).toEqual([]);
    expect(reader.push(bytes('X\r\n'), 3).map((l) => [l.text, l.terminator])).toEqual([
      ['OK b=2', 'CR'],
      ['X', 'CRLF'],
    ]);
  });

  it('counts a line of any length but keeps only its first 4096 bytes', () => {
    const reader = new StrictLineReader();
    for (let i = 0; i < 100; i++) expect(reader.push(bytes('x'.repeat(1000)), 0)).toEqual([]);
    const [line] = reader.push(bytes('\r\n'), 0);
    expect(line!.length).toBe(100_000);
    expect(line!.text.length).toBe(4096);
  });

  it('drops empty lines, keeps bytes outside ASCII as they came', () => {
    const reader = new StrictLineReader();
    const lines = reader.push(Uint8Array.from([0x0d, 0x0a, 0x0d, 0x0a, 0x4f, 0xff, 0x00, 0x0d, 0x0a]), 0);
    expect(lines.map((l) => [...l.text].map((c) => c.charCodeAt(0)))).toEqual([[0x4f, 0xff, 0x00]]);
  });
});

describe('RawWire', () => {
  it('sends bytes exactly as given and keeps lines nobody listened for in a backlog, in order', async () => {
    const { transport, peer } = createMemoryLink('memory://wire');
    const sent: number[] = [];
    peer.onReceive((b) => sent.push(...b));
    const wire = new RawWire(transport, () => 0);
    await wire.send('A\x00\xff', '\r');
    await Promise.resolve();
    expect(sent).toEqual([0x41, 0x00, 0xff, 0x0d]);

    peer.send(bytes('OK one\r\nOK two\r\nOK three\r\n'));
    await new Promise((resolve) => setImmediate(resolve));
    const got: string[] = [];
    // A listener that has had enough leaves the rest in the backlog for the next one.
    wire.listen((line) => {
      got.push(line.text);
      return got.length === 1;
    });
    expect(got).toEqual(['OK one']);
    wire.listen((line) => {
      got.push(line.text);
      return false;
    });
    expect(got).toEqual(['OK one', 'OK two', 'OK three']);
    expect(wire.recorded.map((r) => `${r.dir} ${r.text}`)).toEqual([
      'out A\x00\xff',
      'in OK one',
      'in OK two',
      'in OK three',
    ]);
    wire.forget();
    expect(wire.recorded).toEqual([]);
  });

  it('reports the link ending to close listeners, and refuses to send after', async () => {
    const { transport, peer } = createMemoryLink('memory://gone');
    const wire = new RawWire(transport, () => 0);
    const ended = new Promise<Error>((resolve) => wire.onClose(resolve));
    peer.close();
    expect((await ended).message).toMatch(/went away/);
    expect(wire.linkError).toBeDefined();
    await expect(wire.send('HELLO', '\r\n')).rejects.toThrow(/went away/);
  });
});
