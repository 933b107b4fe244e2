/**
 * Station mode end to end, in-process: `posbridge station` over eight mock terminals reached
 * through the daemon's ordinary serial code path (mock:// on the in-process serialport binding).
 * One terminal's serial number is not in the manifest: it must receive nothing but the hub's
 * HELLO and STATUS. One fails its diagnostics (printer paper_out): exit 1. Everything that
 * matters is checked on the terminals' own state, and the JUnit report is read back.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerStation, type StationCliDeps } from '../../src/cli/commands/station.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import { Secret } from '../../src/host/secret.js';
import { loadManifest } from '../../src/station/manifest.js';
import { Station, type StationEvent, type StationSummary } from '../../src/station/station.js';
import { ADMIN_PASSWORD, MERCHANT } from '../support/constants.js';
import { inProcessRuntime } from '../support/runtime.js';
import { junitCaseFields, parseXml } from '../unit/station-xml.helper.js';

interface Terminal {
  port: string;
  sn: string;
  /** In the manifest (the stranger is not). */
  row?: { terminal: string; name?: string; profile?: string };
}

/** Eight terminals: six ordinary, one failing its printer check, one the manifest does not list. */
const TERMINALS: Terminal[] = [
  { port: 'mock://t1?sn=PBS0001', sn: 'PBS0001', row: { terminal: '20000001', name: 'Noodle Bar, Main St' } },
  {
    port: 'mock://t2?sn=PBS0002',
    sn: 'PBS0002',
    row: { terminal: '20000002', profile: 'profiles/shop.json' },
  },
  { port: 'mock://t3?sn=PBS0003', sn: 'PBS0003', row: { terminal: '20000003', name: 'Say "cheese"' } },
  {
    port: 'mock://t4?sn=PBS0004',
    sn: 'PBS0004',
    row: { terminal: '20000004', profile: 'profiles/shop.json' },
  },
  { port: 'mock://t5?sn=PBS0005', sn: 'PBS0005', row: { terminal: '20000005' } },
  {
    port: 'mock://t6?sn=PBS0006&diag-fail=printer:paper_out',
    sn: 'PBS0006',
    row: { terminal: '20000006', name: 'Café 6' },
  },
  { port: 'mock://t7?sn=PBS0007', sn: 'PBS0007', row: { terminal: '20000007' } },
  { port: 'mock://t8?sn=STRANGER8', sn: 'STRANGER8' },
];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The manifest as a spreadsheet saves it: BOM, CRLF, columns in its own order, quoting. */
function manifestCsv(terminals: Terminal[]): string {
  const lines = ['terminal,sn,merchant,name,profile'];
  for (const t of terminals) {
    if (!t.row) continue;
    lines.push(
      [t.row.terminal, t.sn, MERCHANT, t.row.name ?? '', t.row.profile ?? ''].map(csvField).join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

let dir: string;
let mockPorts: MockPorts;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'posbridge-station-'));
  await mkdir(join(dir, 'profiles'));
  await writeFile(
    join(dir, 'profiles', 'shop.json'),
    JSON.stringify({ settings: { 'host.addr': 'pos.example.com', 'host.port': 443 } }),
  );
  mockPorts = new MockPorts({ defaults: { baud: 0, diagTimeScale: 0 } });
});

afterEach(async () => {
  await mockPorts.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `posbridge station ...` in-process, with this test's mock terminals behind mock://. */
async function station(
  argv: string[],
  stdin = `${ADMIN_PASSWORD}\n`,
  extra: Partial<StationCliDeps> = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: {
      write: (t: string) => {
        stdout += t;
      },
    },
    stderr: {
      write: (t: string) => {
        stderr += t;
      },
    },
    stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
    env: {
      NO_COLOR: '1',
      PATH: process.env.PATH,
      // The runtime the composition root builds (in-process, audited), all in the scratch directory.
      POSBRIDGE_AUDIT: join(dir, 'audit.sqlite3'),
      POSBRIDGE_SOCKET: join(dir, 'no-daemon.sock'),
      XDG_CONFIG_HOME: join(dir, 'config'),
    },
  };
  const deps: StationCliDeps = {
    ...productionDeps(io, mockPorts),
    user: () => 'tech',
    hostname: () => 'bench-1',
    result: { exitCode: 0 },
    ...extra,
  };
  const program = new Command('posbridge')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) });
  registerStation(program, deps);
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(['station', ...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    deps.result.exitCode = 2;
  }
  return { code: deps.result.exitCode, stdout, stderr };
}

function portArgs(terminals: Terminal[]): string[] {
  return terminals.flatMap((t) => ['--port', t.port]);
}

describe('posbridge station over eight mock terminals', () => {
  it('provisions every listed terminal with its row, leaves the stranger untouched, and exits 1 for the diag failure', async () => {
    const manifest = join(dir, 'terminals.csv');
    await writeFile(manifest, manifestCsv(TERMINALS));
    const junit = join(dir, 'out', 'station.xml');
    await mkdir(join(dir, 'out'));
    const credentials = join(dir, 'operator-passwords.txt');

    const stranger = mockPorts.terminal(TERMINALS[7]!.port);
    const strangerVerbs: string[] = [];
    stranger.addBehaviour({
      name: 'spy',
      onRequest: (info) => {
        strangerVerbs.push(info.request.verb);
        return undefined;
      },
    });

    const run = await station([
      '--manifest',
      manifest,
      '--admin-password-stdin',
      '--junit',
      junit,
      '--credentials-out',
      credentials,
      ...portArgs(TERMINALS),
    ]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);

    // The stranger: identified by the hub (HELLO, STATUS), then nothing: no LOGIN, no byte more.
    expect(strangerVerbs).toEqual(['HELLO', 'STATUS']);
    const strangerState = stranger.snapshot();
    expect(strangerState.admin.factoryPassword).toBe(true);
    expect(strangerState.binding).toBeNull();
    expect(strangerState.lockout.failures).toBe(0);

    // Every listed terminal holds its own row, and no factory password.
    for (const t of TERMINALS.filter((x) => x.row)) {
      const state = mockPorts.terminal(t.port).snapshot();
      expect(state.binding, t.sn).toEqual({
        merchant: MERCHANT,
        terminal: t.row!.terminal,
        name: t.row!.name ?? '',
      });
      expect(state.admin.factoryPassword, t.sn).toBe(false);
      expect(state.operators['01']?.factoryPassword ?? false, t.sn).toBe(false);
      expect(state.settings['host.addr'], t.sn).toBe(t.row!.profile ? 'pos.example.com' : '');
    }
    // One generated password per terminal (operator 01), each line naming its terminal.
    const generated = (await readFile(credentials, 'utf8')).trim().split('\n');
    expect(generated.map((l) => /sn=(\S+)/.exec(l)?.[1]).sort()).toEqual(
      TERMINALS.filter((t) => t.row).map((t) => t.sn),
    );

    // The summary.
    expect(run.stdout).toContain('6 provisioned, 0 already provisioned, 1 failed, 0 quarantined, 0 not seen');
    expect(run.stdout).toMatch(
      /PBS0006 +mock:\/\/t6\S* +FAILED +\d+\/\d+\/1 +provisioned, but diagnostics failed: printer paper_out/,
    );
    expect(run.stdout).toContain('sn STRANGER8 (PB-MOCK) on mock://t8?sn=STRANGER8');
    expect(run.stdout).toContain(`JUnit report written to ${junit}`);

    // The live view (stdout is no TTY): plain lines, one per change, no escape.
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).toMatch(
      /^mock:\/\/t8\?sn=STRANGER8 +STRANGER8 +- +unknown serial number: left untouched$/m,
    );
    expect(run.stdout).toMatch(
      /^mock:\/\/t1\?sn=PBS0001 +PBS0001 +logout done +provisioned: diagnostics \d+ pass/m,
    );

    // JUnit, read back.
    const root = parseXml(await readFile(junit, 'utf8'));
    const suite = root.children[0]!;
    expect(suite.attrs).toMatchObject({ tests: '7', failures: '1', errors: '0' });
    const cases = suite.children.filter((c) => c.name === 'testcase');
    expect(cases.map((c) => [c.attrs.classname, c.attrs.name])).toEqual(
      TERMINALS.filter((t) => t.row).map((t) => ['station', t.sn]),
    );
    // A case's facts open its system-out (the Jenkins schema has no testcase properties).
    const props = junitCaseFields;
    for (const [index, c] of cases.entries()) {
      const t = TERMINALS[index]!;
      expect(props(c)).toMatchObject({ port: t.port, merchant: MERCHANT, terminal: t.row!.terminal });
      const failure = c.children.find((x) => x.name === 'failure');
      if (t.sn === 'PBS0006') {
        expect(failure?.attrs.type).toBe('failed');
        expect(failure?.attrs.message).toContain('printer paper_out');
      } else expect(failure, t.sn).toBeUndefined();
    }
    expect(props(cases[2]!).name).toBe('Say "cheese"');
    expect(props(cases[5]!).name).toBe('Café 6');
  });

  it('a second run changes nothing: already provisioned (the diag failure still fails)', async () => {
    const manifest = join(dir, 'terminals.csv');
    await writeFile(manifest, manifestCsv(TERMINALS));
    const args = ['--manifest', manifest, '--admin-password-stdin', '--credentials-out', join(dir, 'pw.txt')];
    expect((await station([...args, ...portArgs(TERMINALS)])).code).toBe(1);
    const before = TERMINALS.map((t) => mockPorts.terminal(t.port).snapshot());

    const again = await station([...args, '--json', ...portArgs(TERMINALS)]);
    expect(again.code).toBe(1);
    const summary = JSON.parse(again.stdout) as StationSummary;
    expect(summary.counts).toEqual({
      provisioned: 0,
      'already-provisioned': 6,
      failed: 1,
      quarantined: 0,
      'not-seen': 0,
      'not-run': 0,
    });
    expect(summary.rows.find((r) => r.sn === 'PBS0006')?.error?.message).toMatch(
      /^already provisioned, but diagnostics failed/,
    );
    expect(summary.unknown).toEqual([{ port: TERMINALS[7]!.port, sn: 'STRANGER8', model: 'PB-MOCK' }]);
    const after = TERMINALS.map((t) => mockPorts.terminal(t.port).snapshot());
    for (const [i, state] of after.entries()) {
      expect(state.binding).toEqual(before[i]!.binding);
      expect(state.operators).toEqual(before[i]!.operators);
      expect(state.admin).toEqual(before[i]!.admin);
    }
  });

  it('exits 0 when every row is provisioned, and 3 when a row was never seen', async () => {
    const good = TERMINALS.filter((t) => t.row && t.sn !== 'PBS0006');
    const manifest = join(dir, 'good.csv');
    await writeFile(manifest, manifestCsv(good));
    const base = ['--manifest', manifest, '--admin-password-stdin', '--credentials-out', join(dir, 'pw.txt')];
    const all = await station([...base, ...portArgs(good)]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);

    const missing = await station([
      ...base,
      '--junit',
      join(dir, 'missing.xml'),
      ...portArgs(good.slice(0, 3)),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain('3 already provisioned, 0 failed, 0 quarantined, 3 not seen');
    const suite = parseXml(await readFile(join(dir, 'missing.xml'), 'utf8')).children[0]!;
    const notSeen = suite.children.filter((c) =>
      c.children.some((x) => x.name === 'failure' && x.attrs.type === 'not-seen'),
    );
    expect(notSeen.map((c) => c.attrs.name)).toEqual(good.slice(3).map((t) => t.sn));
  });

  it('a stop (Ctrl-C) before any terminal answered takes none: not seen, exit 3', async () => {
    const manifest = join(dir, 'terminals.csv');
    await writeFile(manifest, manifestCsv(TERMINALS));
    const spy: string[] = [];
    mockPorts.terminal(TERMINALS[0]!.port).addBehaviour({
      name: 'spy',
      onRequest: (info) => void spy.push(info.request.verb),
    });
    const run = await station(
      ['--manifest', manifest, '--admin-password-stdin', '--json', ...portArgs(TERMINALS)],
      `${ADMIN_PASSWORD}\n`,
      { stopSignal: async () => 'SIGINT' },
    );
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout) as StationSummary;
    expect(summary.endedBy).toBe('signal');
    expect(summary.counts['not-seen']).toBe(7);
    // Identification had started (the hub's HELLO, STATUS), but no run did.
    expect(spy.filter((v) => v !== 'HELLO' && v !== 'STATUS')).toEqual([]);
  });

  it('refuses a bad manifest before touching any terminal (exit 2), naming file, line and field', async () => {
    const manifest = join(dir, 'bad.csv');
    await writeFile(
      manifest,
      `sn,merchant,terminal\nPBS0001,${MERCHANT},2000001\nPBS0001,${MERCHANT},20000002\n`,
    );
    const spy: string[] = [];
    mockPorts.terminal(TERMINALS[0]!.port).addBehaviour({
      name: 'spy',
      onRequest: (info) => void spy.push(info.request.verb),
    });
    const run = await station([
      '--manifest',
      manifest,
      '--admin-password-stdin',
      '--port',
      TERMINALS[0]!.port,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${manifest} line 2, terminal: must be 8 digits`);
    expect(run.stderr).toContain(`${manifest} line 3, sn: serial number PBS0001 is also on line 2`);
    expect(spy).toEqual([]);
  });

  it('refuses a weak admin password (exit 2)', async () => {
    const manifest = join(dir, 'terminals.csv');
    await writeFile(manifest, manifestCsv(TERMINALS));
    const weak = await station(
      ['--manifest', manifest, '--admin-password-stdin', ...portArgs(TERMINALS)],
      '123456\n',
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('the new admin password');
  });
});

describe('Station over eight mock terminals: concurrency, from the events', () => {
  async function runStation(
    concurrency: number | undefined,
  ): Promise<{ events: StationEvent[]; summary: StationSummary }> {
    const manifestPath = join(dir, 'terminals.csv');
    await writeFile(manifestPath, manifestCsv(TERMINALS));
    const manifest = await loadManifest(manifestPath);
    // The runtime station mode gets for a fixed list of ports: the engine and a hub over them.
    const runtime = await inProcessRuntime({
      mockPorts,
      audit: join(dir, 'audit.sqlite3'),
      hub: { ports: TERMINALS.map((t) => t.port) },
    });
    const { engine, hub } = runtime;
    const station = new Station({
      rows: manifest.rows,
      manifest: manifestPath,
      hub: hub!,
      engine,
      adminPassword: new Secret(ADMIN_PASSWORD),
      technician: 'tech',
      station: 'bench-1',
      untilIdle: true,
      now: () => new Date(),
      recordGenerated: async () => undefined,
      ...(concurrency !== undefined && { concurrency }),
    });
    const events: StationEvent[] = [];
    station.subscribe((e) => events.push(e));
    const summary = await station.run();
    await runtime.close();
    return { events, summary };
  }

  /** Runs in flight at once, and whether steps of different terminals interleave. */
  function overlap(events: StationEvent[]): { max: number; interleaved: boolean } {
    const running = new Set<string>();
    let max = 0;
    let interleaved = false;
    let lastStepSn: string | undefined;
    const switches = new Set<string>();
    for (const e of events) {
      if (e.type === 'started') running.add(e.sn);
      if (e.type === 'finished') running.delete(e.sn);
      if (e.type === 'step') {
        if (lastStepSn !== undefined && lastStepSn !== e.sn && running.has(lastStepSn)) switches.add(e.sn);
        lastStepSn = e.sn;
      }
      max = Math.max(max, running.size);
    }
    interleaved = switches.size > 0;
    return { max, interleaved };
  }

  it('by default all run at once: every terminal is under way before the first one finishes', async () => {
    const { events, summary } = await runStation(undefined);
    const firstFinished = events.findIndex((e) => e.type === 'finished');
    const startedBefore = events.slice(0, firstFinished).filter((e) => e.type === 'started');
    expect(startedBefore).toHaveLength(7);
    const { max, interleaved } = overlap(events);
    expect(max).toBe(7);
    expect(interleaved).toBe(true); // steps of different terminals alternate: the runs truly overlap
    expect(summary.counts).toMatchObject({ provisioned: 6, failed: 1 });
  });

  it('--concurrency 3 keeps exactly three under way while others wait', async () => {
    const { events, summary } = await runStation(3);
    expect(overlap(events).max).toBe(3);
    // Four waited for a slot; all seven ran.
    expect(events.filter((e) => e.type === 'queued')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'started')).toHaveLength(7);
    expect(summary.counts).toMatchObject({ provisioned: 6, failed: 1 });
  });
});
