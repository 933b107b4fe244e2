/**
 * The production serial binding's readiness-driven reads and writes (src/host/ports/readiness-io.ts)
 * on real pseudo-terminals with the real bindings-cpp: a python3 child owns the pty master and does
 * what each test asks on its stdin (read nothing, drain, trickle bytes, echo, hang up).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import { serialPortFactory } from '../../src/host/ports/serial.js';
import type { Transport } from '../../src/host/ports/transport.js';
import { ByteSink, deadline } from '../support/wait.js';

const MASTER = String.raw`
import fcntl, hashlib, os, pty, select, struct, sys, termios, time, tty
m, s = pty.openpty()
tty.setraw(s)
print(os.ttyname(s), flush=True)

def queued(fd):
    return struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, b'\0\0\0\0'))[0]

pending = b''
while True:
    while b'\n' not in pending:
        chunk = os.read(0, 4096)
        if not chunk:
            sys.exit(0)
        pending += chunk
    line, pending = pending.split(b'\n', 1)
    cmd, *args = line.decode().split()
    if cmd == 'peek':
        # Waits until the host's bytes wait on the master, unread, and says how many.
        select.select([m], [], [])
        print('queued', queued(m), flush=True)
    elif cmd == 'drain':
        want, digest, got = int(args[0]), hashlib.sha256(), 0
        while got < want:
            data = os.read(m, 65536)
            digest.update(data)
            got += len(data)
        print('drained', got, digest.hexdigest(), flush=True)
    elif cmd == 'trickle':
        # One byte at a time, each once the host has echoed the one before: the host must have
        # read it by then.
        for i in range(int(args[0])):
            byte = bytes([0x21 + i % 90])
            os.write(m, byte)
            if os.read(m, 1) != byte:
                print('bad echo', i, flush=True)
                break
        else:
            print('trickled', flush=True)
    elif cmd == 'echo':
        print('echoing', flush=True)
        want, got = int(args[0]), 0
        while got < want:
            data = os.read(m, want - got)
            os.write(m, data)
            got += len(data)
    elif cmd == 'hangup':
        os.close(m)
        print('hung up', flush=True)
`;

class PtyMaster {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor() {
    this.child = spawn('python3', ['-u', '-c', MASTER], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(line);
      else this.queue.push(line);
    });
  }

  next(what: string): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return deadline(
      new Promise<string>((resolve) => {
        this.waiting = resolve;
      }),
      `the pty master: ${what}`,
      15_000,
    );
  }

  async ask(command: string, what: string): Promise<string> {
    this.child.stdin.write(`${command}\n`);
    return this.next(what);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function openPair(): Promise<{ master: PtyMaster; transport: Transport; received: ByteSink }> {
  const master = new PtyMaster();
  cleanup.push(() => master.stop());
  const slave = await master.next('the slave path');
  expect(slave).toMatch(/^\/dev\/pts\/\d+$/);
  const transport = await serialPortFactory().open(slave, { baudRate: 115200 });
  cleanup.push(() => transport.close());
  const received = new ByteSink();
  transport.onData(received.push);
  return { master, transport, received };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Tracks a promise's outcome without ever leaving its rejection unhandled. */
function track<T>(promise: Promise<T>): { settled: () => boolean; outcome: Promise<T | Error> } {
  let settled = false;
  const outcome = promise.then(
    (value) => {
      settled = true;
      return value;
    },
    (error: Error) => {
      settled = true;
      return error;
    },
  );
  return { settled: () => settled, outcome };
}

/** More than a pty can hold (its buffers take well under 100 KiB): a write that must wait. */
const MORE_THAN_A_PTY_HOLDS = 1024 * 1024;

describe('readiness-driven serial I/O on a real pty (real binding)', () => {
  it('reads and writes without libuv thread pool: an echo completes while every pool thread is blocked', async () => {
    const { master, transport, received } = await openPair();
    // Each open of a FIFO without a writer holds a pool thread until a writer comes.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posbridge-pool-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `fifo-${i}`));
    expect(spawnSync('mkfifo', fifos).status).toBe(0);
    const held = fifos.map(
      (fifo) => new Promise<void>((resolve) => fs.open(fifo, 'r', (_e, fd) => fs.close(fd, () => resolve()))),
    );
    const release = async () => {
      for (const fifo of fifos) {
        try {
          fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        } catch {
          // ENXIO: that reader has not opened yet or is done.
        }
      }
      await Promise.all(held);
    };
    cleanup.push(release);

    expect(await master.ask('echo 5', 'echo mode')).toBe('echoing');
    await deadline(transport.write(Buffer.from('hello')), 'the write', 3000);
    expect(await received.waitForLength(5, 'the echo', 3000)).toBe('hello');
    await release();
  });

  it('a write larger than the pty holds waits for writable (EAGAIN), then arrives intact once drained', async () => {
    const { master, transport } = await openPair();
    const payload = randomBytes(MORE_THAN_A_PTY_HOLDS);
    const write = track(transport.write(payload));
    const peek = await master.ask('peek', 'the host bytes waiting');
    expect(Number(peek.split(' ')[1])).toBeGreaterThan(0);
    // The master read nothing: the kernel holds far less than the payload, so the write waits.
    expect(write.settled()).toBe(false);
    const drained = await master.ask(`drain ${payload.length}`, 'the payload drained');
    expect(drained).toBe(`drained ${payload.length} ${sha256(payload)}`);
    expect(await write.outcome).toBeUndefined();
  });

  it('a 64 KiB write arrives intact', async () => {
    const { master, transport } = await openPair();
    const payload = randomBytes(64 * 1024);
    master.child.stdin.write(`drain ${payload.length}\n`);
    await transport.write(payload);
    expect(await master.next('the payload drained')).toBe(`drained ${payload.length} ${sha256(payload)}`);
  });

  it('bytes arriving one at a time are each read as they come, in order', async () => {
    const { master, transport, received } = await openPair();
    const chunks: number[] = [];
    transport.onData((bytes) => {
      chunks.push(bytes.length);
      void transport.write(bytes);
    });
    const count = 300;
    const expected = Buffer.from(Array.from({ length: count }, (_, i) => 0x21 + (i % 90)));
    expect(await master.ask(`trickle ${count}`, 'the trickle')).toBe('trickled');
    await received.waitForLength(count, 'every trickled byte');
    expect(received.bytes).toEqual(expected);
    // The master sends the next byte only once the host has echoed the one before.
    expect(chunks).toEqual(Array.from({ length: count }, () => 1));
  });

  it('a hang-up while a read waits ends the link once, as a disconnect', async () => {
    const { master, transport } = await openPair();
    const closes: Array<Error | undefined> = [];
    const ended = new Promise<void>((resolve) =>
      transport.onClose((error) => {
        closes.push(error);
        resolve();
      }),
    );
    expect(await master.ask('hangup', 'the hang-up')).toBe('hung up');
    await deadline(ended, 'the link to end after the hang-up');
    await transport.close();
    expect(closes).toHaveLength(1);
    expect((closes[0] as { disconnected?: boolean }).disconnected).toBe(true);
    expect(transport.closed).toBe(true);
    await expect(transport.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('close while a write waits for writable: close resolves, the write fails, nothing is left unhandled', async () => {
    const { master, transport } = await openPair();
    const write = track(transport.write(randomBytes(MORE_THAN_A_PTY_HOLDS)));
    await master.ask('peek', 'the host bytes waiting');
    expect(write.settled()).toBe(false);
    await deadline(transport.close(), 'close with a write waiting');
    const outcome = await deadline(write.outcome, 'the waiting write to fail');
    expect(isPosbridgeError(outcome, 'DISCONNECTED')).toBe(true);
    expect(transport.closed).toBe(true);
  });
});
