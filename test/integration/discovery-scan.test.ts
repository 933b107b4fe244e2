/**
 * `posbridge scan` in-process, over mock terminals reached through the mock's in-process
 * serialport binding and the daemon's serial code path: which terminals still hold a factory
 * password, read from STATUS alone (no login: attempts_left unchanged), exit codes, the allow-list
 * (a listed GPS is never opened) and config errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerScan, type ScanDeps, type ScanReport } from '../../src/cli/commands/scan.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { createPortRegistry, type ListedPort } from '../../src/host/ports/index.js';
import {
  createMemoryLink,
  HostSession,
  type MockBehaviour,
  type MockTerminal,
} from '../../src/mock-device/index.js';

/** Counts the verbs a terminal read and the connections it saw. */
class VerbMeter implements MockBehaviour {
  readonly name = 'test:verbs';
  readonly verbs: string[] = [];
  readonly connections = new Set<number>();
  bytesIn = 0;
  onBytes(connection: { id: number }, direction: 'in' | 'out', count: number): undefined {
    this.connections.add(connection.id);
    if (direction === 'in') this.bytesIn += count;
    return undefined;
  }
  onRequest(info: { connection: { id: number }; request: { verb: string } }): undefined {
    this.verbs.push(info.request.verb);
    return undefined;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let mocks: MockPorts;
const meters = new Map<string, VerbMeter>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'posbridge-scan-'));
  mocks = new MockPorts({ defaults: { baud: 0, diagTimeScale: 0, rebootMs: 5 } });
  meters.clear();
});

afterEach(async () => {
  await mocks.close();
  await rm(dir, { recursive: true, force: true });
});

function terminal(port: string): MockTerminal {
  const t = mocks.terminal(port);
  if (!meters.has(port)) {
    const meter = new VerbMeter();
    meters.set(port, meter);
    t.addBehaviour(meter, 'last');
  }
  return t;
}

/** A person at the terminal's other port (no CRC): the admin and operator 01 get new passwords. */
function provisionByHand(port: string): void {
  const { link, host } = createMemoryLink('by hand');
  terminal(port).attach(link);
  const person = new HostSession(host);
  const say = (line: string): void => {
    const replies = person.send(line).filter((l) => !l.startsWith('EVT '));
    const reply = replies.at(-1) ?? '';
    if (!reply.startsWith('OK')) throw new Error(`${line.split(' ')[0]}: ${reply}`);
  };
  say('LOGIN user=admin password=1234');
  say('PASSWD old=1234 new=Adm1n-Secret-99');
  say('INIT merchant=822100052110023 terminal=10023456 name="Shop 9"');
  say('PASSWD user=01 new=Op3rator-Pass-7');
  say('LOGOUT');
  person.close();
}

/** STATUS read by hand (no login): how many attempts are left, what factory_pw says. */
function statusByHand(port: string): string {
  const { link, host } = createMemoryLink('status');
  terminal(port).attach(link);
  const person = new HostSession(host);
  const line =
    person
      .send('STATUS')
      .filter((l) => !l.startsWith('EVT '))
      .at(-1) ?? '';
  person.close();
  return line;
}

function captureIo(env: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (text: string) => void out.push(text), isTTY: false },
    stderr: { write: (text: string) => void err.push(text), isTTY: false },
    stdin: Readable.from([]),
    env: { USER: 'tech', NO_COLOR: '1', ...env },
  };
}

async function scan(
  argv: string[],
  options: { listed?: ListedPort[]; listError?: boolean } = {},
): Promise<Run> {
  const io = captureIo({ XDG_CONFIG_HOME: dir });
  const deps: ScanDeps = {
    ...productionDeps(io),
    result: { exitCode: -1 },
    hostname: () => 'bench-1',
    listPorts: async () => {
      if (options.listError)
        throw new PosbridgeError('PORT_LIST_FAILED', 'cannot list serial ports: spawn udevadm ENOENT');
      return options.listed ?? [];
    },
    portRegistry: () => createPortRegistry().register('mock', mocks.factory()),
  };
  const program = new Command('posbridge')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) });
  registerScan(program, deps);
  for (const command of program.commands) command.exitOverride();
  let code: number;
  try {
    await program.parseAsync(['scan', ...argv], { from: 'user' });
    code = deps.result.exitCode;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    code = 2;
  }
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

function listed(path: string, vendorId: string, productId: string, manufacturer: string): ListedPort {
  return { path, vendorId, productId, manufacturer, kind: 'other', looksLikeTerminal: false };
}

describe('posbridge scan', () => {
  it('3 terminals, 2 still in factory state: reports those 2, exit 1, and spends no login attempt', async () => {
    for (const name of ['a', 'b', 'c']) terminal(`mock://${name}`);
    provisionByHand('mock://c');
    const before = ['a', 'b', 'c'].map((n) => statusByHand(`mock://${n}`));
    expect(before[2]).toMatch(/factory_pw=none/);
    expect(before[0]).toMatch(/factory_pw=admin,01 .*|attempts_left=5/);
    for (const meter of meters.values()) meter.verbs.length = 0;

    const run = await scan(['--port', 'mock://a', '--port', 'mock://b', '--port', 'mock://c']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^FACTORY mock:\/\/a {2}PB-MOCK sn \S+ {2}factory password still set for: admin, 01$/,
    );
    expect(lines[1]).toMatch(/^FACTORY mock:\/\/b /);
    expect(lines[2]).toMatch(/^ok {6}mock:\/\/c {2}PB-MOCK sn \S+ {2}no factory password \(initialized\)$/);
    expect(lines[3]).toBe(
      '2 of 3 terminals still hold a factory password (read from STATUS: no login was tried)',
    );

    // Zero attempts: no LOGIN or PASSWD reached any terminal, attempts_left is what it was.
    for (const [port, meter] of meters) {
      expect(meter.verbs, port).toEqual(['HELLO', 'STATUS']);
    }
    expect(['a', 'b', 'c'].map((n) => statusByHand(`mock://${n}`))).toEqual(before);
    for (const n of ['a', 'b', 'c']) expect(terminal(`mock://${n}`).snapshot().lockout.failures).toBe(0);
  });

  it('--json: one document with every terminal, the count, and the ports left alone', async () => {
    for (const name of ['a', 'b', 'c']) terminal(`mock://${name}`);
    provisionByHand('mock://b');
    const gps = terminal('mock://gps');
    const run = await scan(['--json', '--port', 'mock://a', '--port', 'mock://b'], {
      listed: [
        listed('mock://gps', '1546', '01a7', 'u-blox AG'),
        listed('mock://c', '0b00', '0081', 'Ingenico'),
      ],
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect(report).toMatchObject({
      kind: 'scan',
      station: 'bench-1',
      withFactoryCredential: 2,
      problems: [],
    });
    expect(report.terminals.map((t) => [t.port, t.factoryCredential, t.factoryPw])).toEqual([
      ['mock://a', true, ['admin', '01']],
      ['mock://c', true, ['admin', '01']],
      ['mock://b', false, []],
    ]);
    expect(report.terminals[1]).toMatchObject({
      usb: { vendorId: '0b00', productId: '0081' },
      attemptsLeft: 5,
    });
    expect(report.ignored).toEqual([
      {
        path: 'mock://gps',
        reason: 'not on the allow-list and not named',
        usb: { vendorId: '1546', productId: '01a7', manufacturer: 'u-blox AG' },
      },
    ]);
    // The GPS was never opened: no connection, not one byte.
    expect(gps.connectionCount).toBe(0);
    expect(meters.get('mock://gps')!.connections.size).toBe(0);
    expect(meters.get('mock://gps')!.bytesIn).toBe(0);
  });

  it('exit 0 when no terminal holds a factory password', async () => {
    terminal('mock://c');
    provisionByHand('mock://c');
    const run = await scan(['--port', 'mock://c']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok .*\n1 terminal checked, none holds a factory password/);
  });

  it('a named port that is not there: listed as unchecked, exit 3', async () => {
    terminal('mock://c');
    provisionByHand('mock://c');
    const missing = join(dir, 'ttyUSB7');
    const run = await scan(['--port', 'mock://c', '--port', missing]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`UNCHECKED ${missing}  no such port: ${missing}`);
  });

  it('config ports are scanned, and a config error names the file and the field (exit 2)', async () => {
    terminal('mock://a');
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'ports: [mock://a]\ntimeouts: { requestMs: 500 }\n');
    const ok = await scan(['--config', good, '--json']);
    expect(ok.code).toBe(1);
    expect((JSON.parse(ok.stdout) as ScanReport).terminals.map((t) => t.port)).toEqual(['mock://a']);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'ports: [mock://a]\ntimeouts: { heartbeatMs: -1 }\n');
    const run = await scan(['--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `config file ${bad}: timeouts.heartbeatMs: must be 0 (off) or a whole number`,
    );
  });

  it('the default config file ($XDG_CONFIG_HOME/posbridge/daemon.yaml) is read when present', async () => {
    terminal('mock://z');
    await (await import('node:fs/promises')).mkdir(join(dir, 'posbridge'));
    await writeFile(join(dir, 'posbridge/daemon.yaml'), 'station: shop-4\nports: [mock://z]\n');
    const run = await scan(['--json']);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect(report.station).toBe('shop-4');
    expect(report.terminals.map((t) => t.port)).toEqual(['mock://z']);
  });

  it('cannot list ports and nothing named: exit 3 with the reason; with named ports: a warning', async () => {
    const failed = await scan([], { listError: true });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/cannot list serial ports/);

    terminal('mock://a');
    const warned = await scan(['--port', 'mock://a'], { listError: true });
    expect(warned.code).toBe(1);
    expect(warned.stdout).toMatch(/warning: cannot list serial ports.*only named ports were checked/);
  });

  it('nothing connected: exit 0 and says so', async () => {
    const run = await scan([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^no terminal found/);
  });
});
