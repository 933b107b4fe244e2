/**
 * The mock's `--device` transport (src/mock-device/transports/device.ts) over a scripted
 * serialport binding and a virtual clock: bytes both ways, a hang-up ending the link once, the
 * reopen backoff (doubling, capped, until the tty is back), close() stopping it, and the path
 * never touched. The real tty (a socat pair) is in test/e2e/mock-device.test.ts.
 */
import { mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingInterface, BindingPortInterface, OpenOptions } from '@serialport/bindings-cpp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDevice, TransportError } from '../../src/mock-device/transports/index.js';
import { VirtualClock } from '../../src/protocol/index.js';
import { LinkRecorder } from '../support/link-recorder.js';
import { deadline } from '../support/wait.js';

const eio = (): Error => Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });

/** One open of the scripted tty: reads wait for emit(); hangup() fails the pending read as EIO does. */
class ScriptedPort implements BindingPortInterface {
  isOpen = true;
  readonly written: Buffer[] = [];
  private queue: Buffer[] = [];
  private hungUp = false;
  private pending:
    | { buffer: Buffer; offset: number; resolve: (n: number) => void; reject: (e: Error) => void }
    | undefined;

  constructor(readonly openOptions: Required<OpenOptions>) {}

  emit(bytes: string): void {
    this.queue.push(Buffer.from(bytes, 'latin1'));
    this.pump();
  }

  hangup(): void {
    this.hungUp = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(eio());
  }

  async read(buffer: Buffer, offset: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw Object.assign(new Error('Port is not open'), { canceled: true });
    if (this.hungUp) throw eio();
    const bytesRead = await new Promise<number>((resolve, reject) => {
      this.pending = { buffer, offset, resolve, reject };
      this.pump();
    });
    return { buffer, bytesRead };
  }

  async write(buffer: Buffer): Promise<void> {
    this.written.push(Buffer.from(buffer));
  }

  async close(): Promise<void> {
    this.isOpen = false;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(Object.assign(new Error('Port is not open'), { canceled: true }));
  }

  async update(): Promise<void> {}
  async set(): Promise<void> {}
  async get() {
    return { cts: false, dsr: false, dcd: false };
  }
  async getBaudRate() {
    return { baudRate: this.openOptions.baudRate };
  }
  async flush(): Promise<void> {}
  async drain(): Promise<void> {}

  private pump(): void {
    const chunk = this.queue.shift();
    if (!chunk || !this.pending) {
      if (chunk) this.queue.unshift(chunk);
      return;
    }
    const { buffer, offset, resolve } = this.pending;
    this.pending = undefined;
    chunk.copy(buffer, offset);
    resolve(chunk.length);
  }
}

/** A tty that can be there or gone: open() fails while `gone`, and records when it was tried. */
class ScriptedTty {
  gone = false;
  readonly attempts: number[] = [];
  readonly ports: ScriptedPort[] = [];

  constructor(private readonly clock: VirtualClock) {}

  get current(): ScriptedPort {
    return this.ports.at(-1)!;
  }

  readonly binding: BindingInterface = {
    list: async () => [],
    open: async (options) => {
      this.attempts.push(this.clock.now());
      if (this.gone)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${options.path}'`), {
          code: 'ENOENT',
        });
      const port = new ScriptedPort(options as Required<OpenOptions>);
      this.ports.push(port);
      return port;
    },
  } as BindingInterface;
}

/** Lets pending promise callbacks run (the stream's open and close go through several). */
async function until(test: () => boolean, what: string): Promise<void> {
  await deadline(
    (async () => {
      while (!test()) await new Promise((resolve) => setImmediate(resolve));
    })(),
    what,
  );
}

let dir: string;
let clock: VirtualClock;
let tty: ScriptedTty;
const closers: Array<() => Promise<void>> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-device-'));
  clock = new VirtualClock();
  tty = new ScriptedTty(clock);
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(recorder: LinkRecorder, path = '/dev/null') {
  const transport = await openDevice(
    { path, baudRate: 9600, binding: tty.binding, timers: clock, retry: { firstMs: 100, maxMs: 400 } },
    recorder.handler,
  );
  closers.push(() => transport.close());
  return transport;
}

describe('mock --device transport', () => {
  it('carries bytes both ways at the given baud rate, with an exclusive lock', async () => {
    const recorder = new LinkRecorder();
    await serve(recorder);
    const probe = await recorder.next();
    expect(probe.link.label).toBe('device /dev/null');
    expect(tty.current.openOptions).toMatchObject({ path: '/dev/null', baudRate: 9600, lock: true });
    tty.current.emit('HELLO\r\n');
    await probe.received.waitForLength(7, 'the request');
    probe.link.send(Buffer.from('OK proto=1\r\n'));
    await until(() => tty.current.written.length > 0, 'the reply to be written');
    expect(Buffer.concat(tty.current.written).toString('latin1')).toBe('OK proto=1\r\n');
  });

  it('a hang-up ends the link once; the tty is reopened with a doubling backoff capped at maxMs until it is back', async () => {
    const recorder = new LinkRecorder();
    await serve(recorder);
    const first = await recorder.next();
    const start = clock.now();
    tty.gone = true;
    tty.current.hangup();
    await deadline(first.closed, 'the link to end');
    expect(first.closeCount).toBe(1);

    // Five failed attempts: 100, 200, 400, 400, 400 ms apart.
    for (let n = 1; n <= 5; n++) {
      await until(() => clock.pending === 1, `reopen attempt ${n} to be scheduled`);
      clock.runNext();
      await until(() => tty.attempts.length === n + 1, `reopen attempt ${n}`);
    }
    expect(tty.attempts.slice(1).map((t) => t - start)).toEqual([100, 300, 700, 1100, 1500]);

    tty.gone = false;
    await until(() => clock.pending === 1, 'the next attempt');
    clock.runNext();
    const second = await recorder.next('a new link once the tty is back');
    tty.current.emit('STATUS\r\n');
    await second.received.waitForLength(8, 'a request on the new link');
    expect(first.received.text).toBe('');

    // Once back, the backoff starts again from firstMs.
    tty.current.hangup();
    await deadline(second.closed, 'the second link to end');
    await until(() => clock.pending === 1, 'a reopen to be scheduled');
    const at = clock.now();
    clock.runNext();
    expect(clock.now() - at).toBe(100);
  });

  it('the terminal pulling the cable closes the tty and opens it again: a new connection', async () => {
    const recorder = new LinkRecorder();
    await serve(recorder);
    const first = await recorder.next();
    first.link.close();
    await until(() => !tty.ports[0]!.isOpen, 'the tty to be closed');
    await until(() => clock.pending === 1, 'a reopen to be scheduled');
    clock.runNext();
    await recorder.next('a new link');
    expect(tty.ports).toHaveLength(2);
  });

  it('close() stops reopening and leaves the path as it was', async () => {
    const link = join(dir, 'ttyGS0');
    symlinkSync('/dev/null', link);
    const recorder = new LinkRecorder();
    const transport = await serve(recorder, link);
    const probe = await recorder.next();
    tty.gone = true;
    tty.current.hangup();
    await deadline(probe.closed, 'the link to end');
    await until(() => clock.pending === 1, 'a reopen to be scheduled');
    await transport.close();
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(tty.attempts).toHaveLength(1);
    expect(readlinkSync(link)).toBe('/dev/null');
  });

  it('refuses at start what it cannot serve: no such path, not a tty, a first open that fails', async () => {
    const recorder = new LinkRecorder();
    const missing = join(dir, 'nothing');
    await expect(serve(recorder, missing)).rejects.toMatchObject({
      code: 'DEVICE_NOT_FOUND',
      message: `No such device: ${missing}`,
    });
    const file = join(dir, 'file');
    writeFileSync(file, '');
    await expect(serve(recorder, file)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    tty.gone = true;
    const error = await serve(recorder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({
      code: 'DEVICE_FAILED',
      message: expect.stringContaining('Cannot open /dev/null: ENOENT'),
    });
    expect(recorder.probes).toHaveLength(0);
  });
});
