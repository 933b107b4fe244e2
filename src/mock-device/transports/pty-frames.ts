/**
 * The framing between Node and the pty helper (see pty-bridge-script.ts): the helper's stdout
 * carries both host bytes and session events, so they need frames to stay in order.
 */

/** Splits the helper's stdout into frames: kind (1 byte), length (u32 BE), payload. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (kind: string, payload: Buffer) => void): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const size = this.buffered.readUInt32BE(1);
      if (this.buffered.length < 5 + size) return;
      const kind = String.fromCharCode(this.buffered[0]!);
      const payload = this.buffered.subarray(5, 5 + size);
      this.buffered = this.buffered.subarray(5 + size);
      onFrame(kind, payload);
    }
  }
}

/** One Node→helper frame: kind (1 byte), link generation (u32 BE), length (u32 BE), payload. */
export function frameToHelper(kind: 'D' | 'H', gen: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const frame = Buffer.allocUnsafe(9 + payload.length);
  frame.write(kind, 0, 'latin1');
  frame.writeUInt32BE(gen, 1);
  frame.writeUInt32BE(payload.length, 5);
  frame.set(payload, 9);
  return frame;
}
