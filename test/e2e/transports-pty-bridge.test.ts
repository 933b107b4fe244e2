import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PTY_BRIDGE_SCRIPT } from '../../src/mock-device/transports/pty-bridge-script.js';
import { FrameReader, frameToHelper } from '../../src/mock-device/transports/pty-frames.js';
import { deadline } from '../support/wait.js';

/**
 * The pty helper on its own, driven through its frame protocol, with plain file descriptors as
 * hosts. Stopping the helper (SIGSTOP) makes the races deterministic: what the hosts do meanwhile
 * is exactly what it finds when it resumes.
 */
class Helper {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly frames: Array<{ kind: string; payload: Buffer }> = [];
  private taken = 0;
  private wake: (() => void) | undefined;

  constructor(options: { linkPath?: string; withoutInotify?: boolean } = {}) {
    // Hiding ctypes is how a python without it (hence without inotify) looks to the script.
    const prelude = options.withoutInotify ? "import sys\nsys.modules['ctypes'] = None\n" : '';
    const script = prelude + PTY_BRIDGE_SCRIPT;
    const args = ['-I', '-S', '-c', script, ...(options.linkPath ? [options.linkPath] : [])];
    this.child = spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const reader = new FrameReader();
    this.child.stdout.on('data', (chunk: Buffer) =>
      reader.push(chunk, (kind, payload) => {
        this.frames.push({ kind, payload: Buffer.from(payload) });
        this.wake?.();
      }),
    );
  }

  /** The next frame, as `KIND` plus its payload rendered for comparison. */
  async next(): Promise<string> {
    const wait = async (): Promise<string> => {
      while (this.frames.length <= this.taken) await new Promise<void>((resolve) => (this.wake = resolve));
      const { kind, payload } = this.frames[this.taken++]!;
      if (kind === 'O' || kind === 'C') return `${kind}${payload.readUInt32BE(0)}`;
      return `${kind} ${payload.toString('latin1')}`;
    };
    return deadline(wait(), 'a frame from the helper');
  }

  async slavePath(): Promise<string> {
    const frame = await this.next();
    expect(frame).toMatch(/^P \/dev\/pts\/\d+$/);
    return frame.slice(2);
  }

  /** Stops the helper and returns once the kernel reports it stopped (not merely signalled). */
  async stop(): Promise<void> {
    this.child.kill('SIGSTOP');
    const state = (): string =>
      fs.readFileSync(`/proc/${this.child.pid}/stat`, 'latin1').replace(/^.*\) /, '')[0]!;
    const stopped = async (): Promise<void> => {
      while (state() !== 'T') await new Promise((resolve) => setImmediate(resolve));
    };
    await deadline(stopped(), 'the helper to stop');
  }

  send(kind: 'D' | 'H', gen: number, text = ''): void {
    this.child.stdin.write(frameToHelper(kind, gen, Buffer.from(text, 'latin1')));
  }
}

function openSlave(slavePath: string): number {
  return fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
}

/** Reads from the host end until `length` bytes arrived (non-blocking fd, re-polled each turn). */
async function readSlave(fd: number, length: number): Promise<string> {
  const buffer = Buffer.alloc(1024);
  let text = '';
  const gather = async (): Promise<string> => {
    while (text.length < length) {
      try {
        text += buffer.subarray(0, fs.readSync(fd, buffer)).toString('latin1');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return text;
  };
  return deadline(gather(), `${length} bytes at the host end`);
}

describe('pty helper protocol', () => {
  let helper: Helper | undefined;
  afterEach(async () => {
    if (helper && helper.child.exitCode === null) {
      helper.child.kill('SIGCONT');
      helper.child.stdin.end();
      await deadline(once(helper.child, 'exit'), 'the helper to exit');
    }
    helper = undefined;
  });

  it('splits a close followed by a reopen that happened while it was not looking', async () => {
    helper = new Helper();
    const slave = await helper.slavePath();
    const fd1 = openSlave(slave);
    expect(await helper.next()).toBe('O1');
    fs.writeSync(fd1, 'A');
    expect(await helper.next()).toBe('D A');

    await helper.stop();
    fs.writeSync(fd1, 'B');
    fs.closeSync(fd1);
    const fd2 = openSlave(slave);
    helper.child.kill('SIGCONT');

    expect(await helper.next()).toBe('D B');
    expect(await helper.next()).toBe('C1');
    expect(await helper.next()).toBe('O2');
    fs.writeSync(fd2, 'C');
    expect(await helper.next()).toBe('D C');

    // Bytes for the ended link are dropped; those for the current one reach its host.
    helper.send('D', 1, 'stale');
    helper.send('D', 2, 'fresh');
    helper.send('D', 2, '!\r\n');
    expect(await readSlave(fd2, 8)).toBe('fresh!\r\n');
    fs.closeSync(fd2);
    expect(await helper.next()).toBe('C2');
  });

  it('treats an open and close it did not see as one short link with its bytes', async () => {
    helper = new Helper();
    const slave = await helper.slavePath();
    await helper.stop();
    const fd = openSlave(slave);
    fs.writeSync(fd, 'HELLO\r');
    fs.closeSync(fd);
    helper.child.kill('SIGCONT');
    expect(await helper.next()).toBe('O1');
    expect(await helper.next()).toBe('D HELLO\r');
    expect(await helper.next()).toBe('C1');
  });

  it('hangs up on request: a new slave first, then the end of the link, then a dead line', async () => {
    helper = new Helper();
    const first = await helper.slavePath();
    const fd = openSlave(first);
    expect(await helper.next()).toBe('O1');
    helper.send('H', 1);
    const second = await helper.slavePath();
    expect(second).not.toBe(first);
    expect(await helper.next()).toBe('C1');
    // The old master is closed: the host reads end-of-file (the 0-byte read of a hung-up tty).
    const buffer = Buffer.alloc(16);
    expect(fs.readSync(fd, buffer)).toBe(0);
    fs.closeSync(fd);
    const fd2 = openSlave(second);
    expect(await helper.next()).toBe('O2');
    fs.closeSync(fd2);
    expect(await helper.next()).toBe('C2');
  });

  it('without inotify, still sees a host open (by polling the hang-up) and close', async () => {
    helper = new Helper({ withoutInotify: true });
    const slave = await helper.slavePath();
    const fd = openSlave(slave);
    expect(await helper.next()).toBe('O1');
    fs.writeSync(fd, 'HELLO\r');
    expect(await helper.next()).toBe('D HELLO\r');
    fs.closeSync(fd);
    expect(await helper.next()).toBe('C1');
  });

  it('exits when its stdin closes, removing the link it was given if it still points to its slave', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'posbridge-bridge-'));
    const linkPath = path.join(dir, 'pos0');
    try {
      helper = new Helper({ linkPath });
      fs.symlinkSync(await helper.slavePath(), linkPath);
      helper.child.stdin.end();
      const [code] = await deadline(once(helper.child, 'exit'), 'the helper to exit');
      expect(code).toBe(0);
      expect(fs.existsSync(linkPath)).toBe(false);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });
});
