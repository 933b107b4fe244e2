/**
 * The mock terminal on a pseudo-terminal, opened by the real serialport binding exactly as a
 * USB terminal would be: line rate pacing, CR-only lines from a person, a pulled cable, and
 * `posbridge mock --pty` starting and stopping cleanly.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { Command } from 'commander';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerMockCommand } from '../../src/cli/commands/mock.js';
import { MockTerminal, type MockTerminalOptions } from '../../src/mock-device/index.js';
import { openPty, type PtyTransport } from '../../src/mock-device/transports/index.js';
import { appendCrc } from '../../src/protocol/index.js';
import { hangupSafeLinuxBinding } from '../support/hangup-safe-binding.js';
import { deadline } from '../support/wait.js';

/** Reads CRLF lines from a port; `next()` waits for the next one. */
class Lines {
  private buffer = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;

  constructor(port: SerialPortStream) {
    port.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      const parts = this.buffer.split('\r\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
  }

  async next(what: string): Promise<string> {
    return deadline(
      (async () => {
        while (this.lines.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
        return this.lines.shift()!;
      })(),
      what,
    );
  }
}

let dir: string;
let linkPath: string;
let transport: PtyTransport | undefined;
let terminal: MockTerminal | undefined;

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'posbridge-mock-pty-'));
  linkPath = path.join(dir, 'pos0');
});
afterEach(async () => {
  await transport?.close();
  transport = undefined;
  terminal?.close();
  terminal = undefined;
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function serve(options: MockTerminalOptions = {}): Promise<void> {
  terminal = new MockTerminal({ diagTimeScale: 0.05, rebootMs: 100, ...options });
  const current = terminal;
  transport = await openPty({ linkPath }, (link) => current.attach(link));
}

async function open(port: SerialPortStream = new SerialPort({ path: linkPath, baudRate: 115200 })) {
  port.on('error', () => {});
  await deadline(once(port, 'open'), `opening ${linkPath}`);
  return { port, lines: new Lines(port) };
}

describe('mock terminal on a pty, real serialport binding', () => {
  it('serves a person typing (CR only, lower case) and a program (IDs, CRC), with events', async () => {
    await serve();
    const { port, lines } = await open();
    port.write('hello\r');
    expect(await lines.next('HELLO reply')).toBe(
      'OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset',
    );
    port.write('@1 LOGIN user=admin password=1234\r\n');
    expect(await lines.next('LOGIN reply')).toBe('@1 OK user=admin must_change=1');
    port.write('@2 PASSWD old=1234 new=Good-Pass1\r\n@3 DIAG checks=printer,network\r\n');
    expect(await lines.next('PASSWD reply')).toBe('@2 OK');
    // Real timers: a check takes at least its scaled typical time (50 ms x 0.05, 400 ms x 0.05).
    expect(
      Number(/^@3 DATA check=printer status=pass ms=(\d+)$/.exec(await lines.next('DIAG line 1'))?.[1]),
    ).toBeGreaterThanOrEqual(2);
    expect(
      Number(/^@3 DATA check=network status=pass ms=(\d+)$/.exec(await lines.next('DIAG line 2'))?.[1]),
    ).toBeGreaterThanOrEqual(20);
    expect(await lines.next('DIAG end')).toBe('@3 OK pass=2 warn=0 fail=0');
    port.write(`${appendCrc('@4 REBOOT')}\r\n`);
    expect(await lines.next('REBOOT reply')).toBe(appendCrc('@4 OK'));
    expect(await lines.next('EVT boot')).toBe(appendCrc('EVT boot sn=PBM0000001'));
    port.close();
    await deadline(once(port, 'close'), 'close');
  });

  it('a pulled cable (silent-after) hangs the host up; the next open is a fresh connection', async () => {
    await serve({ faults: 'silent-after:rx=40' });
    const first = await open(
      new SerialPortStream({ binding: hangupSafeLinuxBinding, path: linkPath, baudRate: 115200 }),
    );
    const closed = once(first.port, 'close');
    first.port.write('LOGIN user=admin password=1234\r\n');
    expect(await first.lines.next('LOGIN reply')).toBe('OK user=admin must_change=1');
    first.port.write('PASSWD old=1234 new=Good-Pass1\r\n');
    const [error] = (await deadline(closed, 'the hang-up')) as [Error & { disconnected?: boolean }];
    expect(error?.disconnected).toBe(true);
    const second = await open();
    second.port.write('STATUS\r\n');
    expect(await second.lines.next('STATUS reply')).toBe(
      'OK state=factory login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=admin,01',
    );
    second.port.close();
  });
});

describe('posbridge mock --pty', () => {
  it('refuses a link to a pty another mock serves: exit 2, naming the holder, nothing replaced', async () => {
    transport = await openPty({ linkPath }, () => {});
    const slave = transport.slavePath;
    let err = '';
    const deps = {
      io: {
        stdout: { write: () => undefined },
        stderr: {
          write: (t: string) => {
            err += t;
          },
        },
      },
      result: { exitCode: -1 },
      stopSignal: () => new Promise<string>(() => {}),
    };
    const program = new Command('posbridge').exitOverride();
    registerMockCommand(program, deps);
    await program.parseAsync(['mock', '--pty', linkPath, '--log-level', 'silent'], { from: 'user' });
    expect(deps.result.exitCode).toBe(2);
    expect(err).toMatch(
      new RegExp(
        `^posbridge mock: ${linkPath} leads to ${slave}, a pty in use: pid \\d+ \\(\\S*python3 .*\\) of pid ${process.pid} .*serving it\\. Stop that program first, or give --pty another path\\n$`,
      ),
    );
    expect(fs.readlinkSync(linkPath)).toBe(slave);
  });

  it('prints the path, serves it, and on a signal removes the link, saves the state and exits 0', async () => {
    const state = path.join(dir, 'pos.json');
    let out = '';
    let stop!: (signal: string) => void;
    const deps = {
      io: {
        stdout: {
          write: (t: string) => {
            out += t;
          },
        },
        stderr: { write: () => undefined },
      },
      result: { exitCode: -1 },
      stopSignal: () =>
        new Promise<string>((resolve) => {
          stop = resolve;
        }),
    };
    const program = new Command('posbridge').exitOverride();
    registerMockCommand(program, deps);
    const done = program.parseAsync(['mock', '--pty', linkPath, '--state', state, '--sn', 'PTY-1'], {
      from: 'user',
    });
    await deadline(
      (async () => {
        while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 5));
      })(),
      'the ready line',
    );
    expect(out).toBe(`mock terminal PTY-1 on pty ${linkPath}\n`);
    const { port, lines } = await open();
    port.write('LOGIN user=admin password=1234\r');
    expect(await lines.next('LOGIN reply')).toBe('OK user=admin must_change=1');
    port.write('PASSWD old=1234 new=Good-Pass1\r');
    expect(await lines.next('PASSWD reply')).toBe('OK');
    port.close();
    stop('SIGTERM');
    await deadline(done, 'the command to finish');
    expect(deps.result.exitCode).toBe(0);
    expect(fs.existsSync(linkPath)).toBe(false);
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).identity.sn).toBe('PTY-1');
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).admin.mustChange).toBe(false);
  });
});
