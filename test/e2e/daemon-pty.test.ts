/**
 * The real serialport binding on a real pseudo-terminal: a python3 child opens a pty pair and
 * answers every TSP/1 line on the master with `@ID OK verb=VERB *CRC` (binascii.crc_hqx with
 * init 0xFFFF is CRC-16/CCITT-FALSE); its stdin takes commands (lock, attrs, mute, hangup).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import { serialPortFactory } from '../../src/host/ports/serial.js';
import type { Transport } from '../../src/host/ports/transport.js';
import { Session } from '../../src/host/session.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

const TERMINAL = String.raw`
import os, pty, sys, tty, select, binascii, fcntl, termios
m, s = pty.openpty()
tty.setraw(s)
name = os.ttyname(s)
print(name, flush=True)
buf = b''
mute = False
lockfd = None
while True:
    r, _, _ = select.select([m, sys.stdin], [], [])
    if sys.stdin in r:
        cmd = sys.stdin.readline().strip()
        if cmd in ('', 'hangup'):
            break
        if cmd == 'mute':
            mute = True
        if cmd == 'lock':
            lockfd = os.open(name, os.O_RDWR | os.O_NOCTTY)
            fcntl.flock(lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print('locked', flush=True)
        if cmd == 'attrs':
            print('attrs ' + repr(termios.tcgetattr(s)), flush=True)
        continue
    try:
        data = os.read(m, 4096)
    except OSError:
        continue
    buf += data
    while True:
        ends = [i for i in (buf.find(b'\r'), buf.find(b'\n')) if i >= 0]
        if not ends:
            break
        line, buf = buf[:min(ends)], buf[min(ends) + 1:]
        if not line.strip() or mute:
            continue
        parts = line.decode('latin1').split(' ')
        ident = parts[0] if parts[0].startswith('@') else None
        verb = parts[1] if ident else parts[0]
        body = (ident + ' ' if ident else '') + 'OK verb=' + verb
        crc = binascii.crc_hqx(body.encode('latin1'), 0xFFFF)
        os.write(m, (body + ' *%04X\r\n' % crc).encode('latin1'))
`;

class PtyTerminal {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor() {
    this.child = spawn('python3', ['-u', '-c', TERMINAL], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(line);
      else this.queue.push(line);
    });
  }

  next(): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('pty helper did not answer')), 5000);
      this.waiting = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  command(cmd: string): void {
    this.child.stdin.write(`${cmd}\n`);
  }

  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited();
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startTerminal(): Promise<{ terminal: PtyTerminal; path: string }> {
  const terminal = new PtyTerminal();
  cleanup.push(() => terminal.stop());
  const path = await terminal.next();
  expect(path).toMatch(/^\/dev\/pts\/\d+$/);
  return { terminal, path };
}

async function openReal(path: string): Promise<Transport> {
  const transport = await serialPortFactory().open(path, { baudRate: 115200 });
  cleanup.push(() => transport.close());
  return transport;
}

describe('serial port on a real pty (real binding)', () => {
  it('exchanges lines through the transport and through a session', async () => {
    const { path } = await startTerminal();
    const transport = await openReal(path);
    const received: Buffer[] = [];
    transport.onData((bytes) => received.push(Buffer.from(bytes)));
    await transport.write(Buffer.from('@7 HELLO\r\n'));
    for (let i = 0; i < 50 && !Buffer.concat(received).includes('\n'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^@7 OK verb=HELLO \*[0-9A-F]{4}\r\n$/);

    const session = new Session(transport, { logger: silentLogger, random: () => 0.25 });
    const reply = await session.request('STATUS');
    expect(reply).toMatchObject({ id: '25000000', fields: { verb: 'STATUS' } });
    const second = await session.request('LOGOUT');
    expect(second).toMatchObject({ id: '25000001', fields: { verb: 'LOGOUT' } });
  });

  it('a second open of the same path gets PORT_BUSY naming the holder (this process)', async () => {
    const { path } = await startTerminal();
    await openReal(path);
    const error = await serialPortFactory()
      .open(path, { baudRate: 115200 })
      .catch((e) => e);
    expect(isPosbridgeError(error, 'PORT_BUSY')).toBe(true);
    expect(error.message).toContain(path);
    expect(error.message).toContain(`pid ${process.pid} (this process)`);
  });

  it('another process holding the lock: PORT_BUSY with its pid and command, its tty settings untouched', async () => {
    const { terminal, path } = await startTerminal();
    terminal.command('lock');
    expect(await terminal.next()).toBe('locked');
    terminal.command('attrs');
    const before = await terminal.next();
    const error = await serialPortFactory()
      .open(path, { baudRate: 9600 })
      .catch((e) => e);
    expect(isPosbridgeError(error, 'PORT_BUSY')).toBe(true);
    expect(error.message).toContain(`pid ${terminal.child.pid}`);
    expect(error.message).toContain('python3');
    expect(error.details.holders).toEqual([
      expect.objectContaining({ pid: terminal.child.pid, self: false }),
    ]);
    terminal.command('attrs');
    expect(await terminal.next()).toBe(before);
  });

  it('unplug mid-command fails the pending request at once with DISCONNECTED (no hang, no timeout)', async () => {
    const { terminal, path } = await startTerminal();
    const transport = await openReal(path);
    const session = new Session(transport, { logger: silentLogger, timeoutMs: 10_000 });
    terminal.command('mute');
    const started = Date.now();
    const pending = session.request('DIAG').catch((e) => e);
    const queued = session.request('STATUS').catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    terminal.command('hangup');
    const [first, second] = await Promise.all([pending, queued]);
    expect(isPosbridgeError(first, 'DISCONNECTED')).toBe(true);
    expect(isPosbridgeError(second, 'DISCONNECTED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(transport.closed).toBe(true);
    await expect(transport.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});
