/**
 * ReadinessIo (src/host/ports/readiness-io.ts) on the two ends of a FIFO, with a poller the test
 * drives: what it reads and when it asks the poller, a 0-byte read, a write that fills the pipe, and
 * a close that cancels a waiting write.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CanceledError,
  ReadinessIo,
  type UnixPort,
  ZeroByteReadError,
} from '../../src/host/ports/readiness-io.js';

type Event = 'readable' | 'writable';

/** A stand-in for bindings-cpp's Poller: records what is asked, answers when the test says. */
class TestPoller {
  readonly asked: Event[] = [];
  private readonly waiting = new Map<Event, Array<(error: Error | null) => void>>();
  /** Called when a wait is registered: answer at once (the default) or leave it to the test. */
  onWait: (event: Event) => void = (event) => queueMicrotask(() => this.fire(event));

  once(event: Event, callback: (error: Error | null) => void): void {
    this.asked.push(event);
    this.waiting.set(event, [...(this.waiting.get(event) ?? []), callback]);
    this.onWait(event);
  }

  fire(event: Event, error: Error | null = null): void {
    const callbacks = this.waiting.get(event) ?? [];
    this.waiting.delete(event);
    for (const callback of callbacks) callback(error);
  }
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const step of cleanup.splice(0).reverse()) step();
});

/** A FIFO's read end as the port (`fd`), and its write end for the test. */
function fifoPort(mode: 'read' | 'write') {
  const dir = mkdtempSync(join(tmpdir(), 'posbridge-readiness-'));
  const path = join(dir, 'fifo');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const open = { read: true, write: true };
  const closeEnd = (end: 'read' | 'write') => {
    if (!open[end]) return;
    open[end] = false;
    closeSync(end === 'read' ? readEnd : writeEnd);
  };
  cleanup.push(() => {
    closeEnd('read');
    closeEnd('write');
    rmSync(dir, { recursive: true, force: true });
  });
  const poller = new TestPoller();
  const port = {
    fd: mode === 'read' ? readEnd : writeEnd,
    isOpen: true,
    openOptions: { path },
    poller,
  } as unknown as UnixPort & { fd: number | null; isOpen: boolean };
  return { port, poller, other: mode === 'read' ? writeEnd : readEnd, closeEnd };
}

describe('ReadinessIo reads', () => {
  it('waits for readable, reads what is there, and after a short read waits again before reading', async () => {
    const { port, poller, other } = fifoPort('read');
    const io = new ReadinessIo(port);
    writeSync(other, 'OK 1\r\n');
    const buffer = Buffer.alloc(64);
    const first = await io.read(buffer, 0, 64);
    expect(buffer.subarray(0, first.bytesRead).toString()).toBe('OK 1\r\n');
    expect(poller.asked).toEqual(['readable']);
    writeSync(other, 'OK 2\r\n');
    const second = await io.read(buffer, 0, 64);
    expect(buffer.subarray(0, second.bytesRead).toString()).toBe('OK 2\r\n');
    // The first read drained the pipe (6 of 64 bytes): the second asked the poller first.
    expect(poller.asked).toEqual(['readable', 'readable']);
  });

  it('reads again at once, without asking the poller, after a read that filled the buffer', async () => {
    const { port, poller, other } = fifoPort('read');
    const io = new ReadinessIo(port);
    writeSync(other, 'abcdefgh');
    const buffer = Buffer.alloc(4);
    await io.read(buffer, 0, 4);
    const rest = await io.read(buffer, 0, 4);
    expect(buffer.subarray(0, rest.bytesRead).toString()).toBe('efgh');
    expect(poller.asked).toEqual(['readable']);
  });

  it('takes a 0-byte read for a hang-up: ZeroByteReadError, a disconnect, never a retry', async () => {
    const { port, poller, closeEnd } = fifoPort('read');
    const io = new ReadinessIo(port);
    closeEnd('write');
    const error = await io.read(Buffer.alloc(8), 0, 8).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroByteReadError);
    expect((error as ZeroByteReadError).disconnected).toBe(true);
    expect(poller.asked).toEqual(['readable']);
  });

  it('a poller error (a hang-up the poll reports) fails the read with it', async () => {
    const { port, poller } = fifoPort('read');
    poller.onWait = () => queueMicrotask(() => poller.fire('readable', new Error('bad file descriptor')));
    const io = new ReadinessIo(port);
    await expect(io.read(Buffer.alloc(8), 0, 8)).rejects.toThrow('bad file descriptor');
  });
});

describe('ReadinessIo writes', () => {
  it('writes what fits, waits for writable on EAGAIN, and delivers every byte in order', async () => {
    const { port, poller, other } = fifoPort('write');
    const received: Buffer[] = [];
    // The other side reads only when the writer waits: the pipe (64 KiB) fills more than once.
    poller.onWait = (event) => {
      const chunk = Buffer.alloc(65536);
      for (;;) {
        try {
          const n = readSync(other, chunk, 0, chunk.length, null);
          if (n === 0) break;
          received.push(Buffer.from(chunk.subarray(0, n)));
        } catch {
          break;
        }
      }
      queueMicrotask(() => poller.fire(event));
    };
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    const io = new ReadinessIo(port);
    await io.write(payload);
    poller.onWait('writable'); // what the last write left in the pipe
    const all = Buffer.concat(received);
    expect(all.length).toBe(payload.length);
    expect(all.equals(payload)).toBe(true);
    expect(poller.asked.filter((e) => e === 'writable').length).toBeGreaterThanOrEqual(4);
  });

  it('a close while a write waits for writable cancels it (the stream takes that as no disconnect)', async () => {
    const { port, poller } = fifoPort('write');
    poller.onWait = () => undefined;
    const io = new ReadinessIo(port);
    const writing = io.write(Buffer.alloc(200_000, 0x41)).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    expect(poller.asked).toEqual(['writable']);
    // What bindings-cpp's close does: fd gone, the poller's waiters cancelled.
    port.fd = null;
    port.isOpen = false;
    poller.fire('writable', Object.assign(new Error('Canceled'), { canceled: true }));
    const error = await writing;
    expect((error as { canceled?: boolean }).canceled).toBe(true);
    expect(io.pendingWrite).toBeUndefined();
    await expect(io.write(Buffer.from('x'))).rejects.toBeInstanceOf(CanceledError);
  });
});
