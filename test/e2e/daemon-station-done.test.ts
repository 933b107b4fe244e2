/**
 * Issue 5's "Done when", as a technician runs it, every piece its own process: `posbridge daemon`
 * watching a directory of pty links (a wildcard in its config's `ports`), `posbridge station
 * --manifest m.csv` going through it, and `posbridge mock --pty` terminals plugged in one after
 * another while the station waits: three on the manifest, one not (reported, left untouched).
 * The station ends by itself once every row is provisioned; `posbridge history --verify` passes,
 * then detects one edited record; SIGTERM stops the daemon and the mocks cleanly.
 *
 * Real child processes (dist/cli/main.js), real ptys (python3 bridge) opened by the real
 * serialport binding. Every wait is on output or an exit, bounded by a safety timeout.
 */
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeSocket } from '../../src/daemon/api/socket.js';
import { ADMIN_PASSWORD, MERCHANT, STACK_LINE } from '../support/cli-inproc.js';
import { Children, type CliProcess, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import {
  createDaemonStationSandbox,
  type DaemonStationSandbox,
  type ManifestRow,
  mockRequestVerbs,
  tamperRunStart,
} from '../support/daemon-station-rig.js';
import { junitCaseFields, parseXml } from '../unit/station-xml.helper.js';

/** The whole test must stay well under a minute on a 2-core machine. */
const TEST_TIMEOUT_MS = 60_000;
/** Safety nets: a hang fails with what was awaited, long before the test's own timeout. */
const START_MS = 20_000;
const STATION_MS = 45_000;
const STOP_MS = 15_000;

const ROWS: ManifestRow[] = [
  { sn: 'SNA001', terminal: '40000001', name: 'Noodle Bar, Main St' },
  { sn: 'SNA002', terminal: '40000002' },
  { sn: 'SNA003', terminal: '40000003' },
];
const STRANGER = 'ZZ9-STRANGER';
const TECHNICIAN = 'tina';
const STATION = 'bench-7';

/** The order the terminals are plugged in: the stranger before the last row, so the station still waits. */
const PLUGS = [
  { link: 'pos1', sn: 'SNA001' },
  { link: 'pos2', sn: 'SNA002' },
  { link: 'pos4', sn: STRANGER },
  { link: 'pos3', sn: 'SNA003' },
];

const children = new Children();
let box: DaemonStationSandbox;

beforeEach(() => {
  requireBuiltCli();
  box = createDaemonStationSandbox(ROWS);
});
afterEach(async () => {
  await children.stopAll();
  rmSync(box.dir, { recursive: true, force: true });
});

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function spawn(args: string[], input?: string): CliProcess {
  return children.spawn(args, { cwd: box.dir, env: box.env, ...(input !== undefined && { input }) });
}

function run(args: string[]) {
  return runCliProcess(args, { cwd: box.dir, env: box.env });
}

function linkExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('issue 5, done when: posbridge daemon + posbridge station + posbridge mock --pty', () => {
  it(
    'provisions terminals as they are plugged in, leaves the stranger alone, and keeps a verifiable trail',
    async () => {
      const t0 = performance.now();
      const timings: Record<string, number> = {};
      const mark = (what: string) => {
        timings[what] = Math.round(performance.now() - t0);
      };

      // 1. The daemon, owning the ports of the watched ptys/ directory.
      const daemon = spawn(['daemon', '--config', box.config, '--socket', box.socket]);
      await daemon.waitForStdout(
        new RegExp(`^posbridge daemon listening on ${esc(box.socket)} \\(pid ${daemon.pid}\\)$`, 'm'),
        'the daemon to listen',
        START_MS,
      );
      const probe = await probeSocket(box.socket, 5000);
      expect(probe.kind, JSON.stringify(probe)).toBe('daemon');
      expect(probe.kind === 'daemon' && probe.health.pid).toBe(daemon.pid);
      expect(lstatSync(box.socket).mode & 0o777).toBe(0o600);
      mark('daemon answers');

      // 2. The station, through the daemon (POSBRIDGE_SOCKET), waiting for terminals.
      const station = spawn(
        [
          'station',
          '--manifest',
          'm.csv',
          '--admin-password-stdin',
          '--junit',
          'j.xml',
          '--timeout-total',
          '60',
          '--technician',
          TECHNICIAN,
          '--station',
          STATION,
          '--credentials-out',
          'operator-passwords.txt',
        ],
        `${ADMIN_PASSWORD}\n`,
      );
      await station.waitForStdout(
        // The relative paths typed are the user's: reported as absolute paths (docs/cli.md, "Paths").
        new RegExp(`^station: 3 terminals in ${esc(box.dir)}/m\\.csv; plug them in`, 'm'),
        'the station to wait for terminals',
        START_MS,
      );
      // Nothing is plugged in yet: the station has no port line.
      expect(station.stdout).not.toContain(box.ptys);
      mark('station waits');

      // 3. The terminals, plugged in one after another; each is seen by the station before the next.
      const mocks = new Map<string, CliProcess>();
      for (const plug of PLUGS) {
        const link = box.link(plug.link);
        const mock = spawn(['mock', '--pty', link, '--sn', plug.sn, '--diag-time-scale', '0']);
        mocks.set(plug.sn, mock);
        await mock.waitForStdout(
          new RegExp(`^mock terminal ${esc(plug.sn)} on pty ${esc(link)}$`, 'm'),
          `mock ${plug.sn} to open its pty`,
          START_MS,
        );
        mark(`${plug.sn} plugged`);
        await station.waitForStdout(
          plug.sn === STRANGER
            ? new RegExp(`^${esc(link)} +${esc(plug.sn)} .*unknown serial number: left untouched$`, 'm')
            : new RegExp(`^${esc(link)} +${esc(plug.sn)} `, 'm'),
          `the station to see ${plug.sn} on ${link}`,
          START_MS,
        );
        mark(`${plug.sn} seen by the station`);
      }

      // 4. The station ends by itself once the three rows are provisioned.
      const stationExit = await station.waitForExit('the station to finish', STATION_MS);
      mark('station done');
      expect(stationExit, station.describe()).toEqual({ code: 0, signal: null });
      expect(station.stderr, station.describe()).not.toMatch(/error|TypeError|at .*\.js:/i);
      const out = station.stdout;
      expect(out).toContain(`station ${STATION}: 3 terminals in ${box.dir}/m.csv (every row has a result)`);
      expect(out).toContain('3 provisioned, 0 already provisioned, 0 failed, 0 quarantined, 0 not seen');
      for (const row of ROWS) {
        const link = box.link(PLUGS.find((p) => p.sn === row.sn)!.link);
        expect(out).toMatch(new RegExp(`^ +${row.sn} +${esc(link)} +provisioned +\\d+/\\d+/0 *$`, 'm'));
        expect(out).toMatch(new RegExp(`^${esc(link)} +${row.sn} +logout done +provisioned: `, 'm'));
      }
      expect(out).toMatch(
        new RegExp(
          `not in the manifest \\(left untouched\\):\\n +sn ${esc(STRANGER)} \\(PB-MOCK\\) on ${esc(box.link('pos4'))}\\n`,
        ),
      );
      expect(out).toContain(`JUnit report written to ${box.dir}/j.xml`);
      expect(out).not.toContain(ADMIN_PASSWORD);
      // Each terminal's generated operator password went to the file, naming its serial number.
      const credentials = readFileSync(`${box.dir}/operator-passwords.txt`, 'utf8');
      for (const row of ROWS)
        expect(credentials).toMatch(new RegExp(` sn=${row.sn} operator=01 password=\\S{6,}\\n`));
      expect(credentials).not.toContain(STRANGER);

      // The JUnit report: one passing test case per manifest row; the stranger as a suite property.
      const suites = parseXml(readFileSync(box.junit, 'utf8'));
      expect(suites.attrs).toMatchObject({ tests: '3', failures: '0', errors: '0' });
      const suite = suites.children.find((c) => c.name === 'testsuite')!;
      const props = (element: typeof suite) =>
        Object.fromEntries(
          (element.children.find((c) => c.name === 'properties')?.children ?? []).map((p) => [
            p.attrs.name,
            p.attrs.value,
          ]),
        );
      expect(props(suite)).toMatchObject({
        technician: TECHNICIAN,
        station: STATION,
        'ended-by': 'complete',
        'unknown-terminals': `${STRANGER}@${box.link('pos4')}`,
      });
      const cases = suite.children.filter((c) => c.name === 'testcase');
      expect(cases.map((c) => c.attrs.name)).toEqual(ROWS.map((r) => r.sn));
      for (const [i, testcase] of cases.entries()) {
        expect(testcase.attrs.classname).toBe('station');
        expect(testcase.children.some((c) => c.name === 'failure')).toBe(false);
        expect(junitCaseFields(testcase)).toMatchObject({
          port: box.link(PLUGS.find((p) => p.sn === ROWS[i]!.sn)!.link),
          merchant: MERCHANT,
          terminal: ROWS[i]!.terminal,
          outcome: 'provisioned',
          manifest: `line ${i + 2}`,
        });
      }

      // The station went through the daemon: it provisioned, watching the event stream.
      const apiCalls = [...daemon.stderr.matchAll(/"path":"(\/v1\/[a-z]+)/g)].map((m) => m[1]);
      expect(apiCalls.filter((p) => p === '/v1/provision')).toHaveLength(3);
      expect(apiCalls).toContain('/v1/events');

      // 5. The stranger is untouched: identification only, and through the daemon it still holds
      //    its factory passwords with every login attempt left.
      const info = await run(['info', '--port', box.link('pos4')]);
      mark('info on the stranger');
      expect(info.code, `${info.stdout}${info.stderr}`).toBe(0);
      expect(info.stdout).toContain(`sn ${STRANGER}`);
      expect(info.stdout).toMatch(/^ +factory pw +admin, 01$/m);
      expect(info.stdout).toMatch(/^ +locked +no +\(5 login attempts left\)$/m);
      expect(daemon.stderr).toMatch(new RegExp(`"path":"/v1/info".*"port":"${esc(box.link('pos4'))}"`));

      // 6. The audit trail: intact, three provisioning runs by the station's technician and station.
      const [verify, history] = await Promise.all([run(['history', '--verify']), run(['history', '--json'])]);
      mark('history');
      expect(verify.code, `${verify.stdout}${verify.stderr}`).toBe(0);
      const intact = new RegExp(`^intact: \\d+ records in ${esc(box.audit)}, head (\\d+:[0-9a-f]{64})$`, 'm');
      expect(verify.stdout).toMatch(intact);
      // The JUnit report carries the run's head through the daemon: nothing was recorded after it.
      expect(props(suite)['audit-head']).toBe(intact.exec(verify.stdout)![1]);
      expect(history.code, history.stderr).toBe(0);
      const runs = (
        JSON.parse(history.stdout) as {
          runs: Array<{
            runId: string;
            kind: string;
            port: string;
            technician: string;
            station: string;
            outcome: string;
            merchant?: string;
            terminalNumber?: string;
            terminal?: { sn: string };
            auditHead: string;
          }>;
        }
      ).runs;
      // Each test case names the record that closed its row's run.
      expect(cases.map((c) => junitCaseFields(c)['audit-head']).sort()).toEqual(
        runs
          .filter((r) => r.kind === 'provision')
          .map((r) => r.auditHead)
          .sort(),
      );
      expect(runs).toHaveLength(3);
      const bySn = new Map(runs.map((r) => [r.terminal?.sn, r]));
      for (const row of ROWS) {
        expect(bySn.get(row.sn)).toMatchObject({
          kind: 'provision',
          port: box.link(PLUGS.find((p) => p.sn === row.sn)!.link),
          technician: TECHNICIAN,
          station: STATION,
          outcome: 'provisioned',
          merchant: MERCHANT,
          terminalNumber: row.terminal,
        });
      }
      expect(readFileSync(box.audit).includes(Buffer.from(ADMIN_PASSWORD))).toBe(false);

      // An edited record: the technician of SNA002's run rewritten behind the store's back.
      const edited = tamperRunStart(box.audit, bySn.get('SNA002')!.runId, `"${TECHNICIAN}"`, '"mallory"');
      const tampered = await run(['history', '--verify']);
      mark('tampered verify');
      expect(tampered.code, `${tampered.stdout}${tampered.stderr}`).toBe(1);
      expect(tampered.stdout).toMatch(new RegExp(`^TAMPERED: ${esc(box.audit)}: record ${edited}: `, 'm'));
      expect(tampered.stderr).not.toMatch(STACK_LINE);

      // 7. SIGTERM: the daemon stops in order (socket removed), then each mock (pty link removed).
      daemon.kill('SIGTERM');
      expect(await daemon.waitForExit('the daemon to stop after SIGTERM', STOP_MS)).toEqual({
        code: 0,
        signal: null,
      });
      expect(daemon.stdout).toContain('posbridge daemon stopped (SIGTERM)');
      expect(linkExists(box.socket)).toBe(false);
      expect(daemon.stderr).not.toContain(ADMIN_PASSWORD);
      for (const mock of mocks.values()) mock.kill('SIGTERM');
      const exits = await Promise.all(
        [...mocks.entries()].map(([sn, mock]) =>
          mock.waitForExit(`mock ${sn} to stop after SIGTERM`, STOP_MS),
        ),
      );
      expect(exits).toEqual(PLUGS.map(() => ({ code: 0, signal: null })));
      for (const plug of PLUGS) expect(linkExists(box.link(plug.link)), plug.link).toBe(false);
      mark('all stopped');

      // What the stranger received, from its own log: HELLO and STATUS (identification, heartbeats,
      // info), never a login or anything else.
      const verbs = mockRequestVerbs(mocks.get(STRANGER)!.stderr);
      expect(verbs).toContain('HELLO');
      expect(new Set(verbs)).toEqual(new Set(['HELLO', 'STATUS']));
      // The provisioned ones were logged in to, as a control that the log shows what was sent.
      expect(mockRequestVerbs(mocks.get('SNA001')!.stderr)).toContain('LOGIN');
      for (const mock of mocks.values()) expect(mock.stderr).not.toContain(ADMIN_PASSWORD);

      console.info(`daemon + station e2e timings (ms since start): ${JSON.stringify(timings)}`);
    },
    TEST_TIMEOUT_MS,
  );
});
