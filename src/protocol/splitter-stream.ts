/**
 * The LineSplitter as a Node object-mode Transform: bytes in, Frame objects out.
 *
 * Why not @serialport/parser-readline: it takes one delimiter (CR, LF and CRLF cannot all end a
 * line), buffers without bound (re-concatenating on every chunk), and decodes text across chunk
 * boundaries. TSP/1 needs all three terminators, a 512-byte limit and byte-exact lines.
 * node:stream is an in-memory abstraction, not I/O: this module stays pure.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { LineSplitter } from './splitter.js';

export class LineSplitterStream extends Transform {
  private readonly splitter: LineSplitter;

  constructor(maxLineBytes?: number) {
    super({ readableObjectMode: true });
    this.splitter = new LineSplitter(maxLineBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const frame of this.splitter.push(chunk)) this.push(frame);
    done();
  }
}
