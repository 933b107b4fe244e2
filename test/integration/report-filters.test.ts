/**
 * `posbridge report` gives the acquirer the real provisionings: dry runs and runs on mock
 * terminals (mock:// ports, or a terminal that says it is the mock) are left out unless
 * `--include-dry-runs` / `--include-mocks` ask for them; each row names its port. `history
 * --oneline` prints one line per run. A terminal that is not the mock is a MockTerminal with
 * another model served over TCP (tcp://127.0.0.1:PORT, a free port).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockTerminal } from '../../src/mock-device/index.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/tcp.js';
import { CliHarness } from '../support/cli-inproc.js';

let cli: CliHarness;
let real: { terminal: MockTerminal; server: TcpListener; port: string };
let mockOverTcp: { terminal: MockTerminal; server: TcpListener; port: string };

async function serve(identity: { model: string; sn: string }) {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 5, identity });
  const server = await listenTcp({ host: '127.0.0.1', port: 0 }, (link) => terminal.attach(link));
  return { terminal, server, port: `tcp://127.0.0.1:${server.address.port}` };
}

beforeAll(async () => {
  cli = new CliHarness();
  real = await serve({ model: 'A920', sn: 'PAX0000042' });
  mockOverTcp = await serve({ model: 'PB-MOCK', sn: 'PBM0000077' });
  // A dry run, then the provisioning, on the "real" terminal; one each on two mock terminals.
  expect((await cli.provision(real.port, ['--dry-run'])).code).toBe(0);
  const provisioned = await cli.provision(real.port);
  expect(provisioned.code, provisioned.stderr).toBe(0);
  expect((await cli.provision('mock://m1')).code).toBe(0);
  expect((await cli.provision(mockOverTcp.port)).code).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const served of [real, mockOverTcp]) {
    await served?.terminal.close();
    await served?.server.close();
  }
  cli.dispose();
});

type Row = { sn: string; port: string; outcome: string };
async function report(...flags: string[]): Promise<Row[]> {
  const run = await cli.run(['report', '--format', 'json', ...flags]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Row[]).map(({ sn, port, outcome }) => ({ sn, port, outcome }));
}

describe('report', () => {
  it('leaves out dry runs and mock terminals by default', async () => {
    expect(await report()).toEqual([{ sn: 'PAX0000042', port: real.port, outcome: 'provisioned' }]);
  });

  it('--include-dry-runs adds the dry run, --include-mocks the mock terminals', async () => {
    expect(await report('--include-dry-runs')).toEqual([
      { sn: 'PAX0000042', port: real.port, outcome: 'planned' },
      { sn: 'PAX0000042', port: real.port, outcome: 'provisioned' },
    ]);
    expect(await report('--include-mocks')).toEqual([
      { sn: 'PAX0000042', port: real.port, outcome: 'provisioned' },
      { sn: 'PBM0000001', port: 'mock://m1', outcome: 'provisioned' },
      { sn: 'PBM0000077', port: mockOverTcp.port, outcome: 'provisioned' },
    ]);
    expect(await report('--include-mocks', '--include-dry-runs')).toHaveLength(4);
  });

  it('has a port column in the CSV, after the model', async () => {
    const run = await cli.run(['report']);
    const [header, row] = run.stdout.replace(/^\uFEFF/, '').split('\r\n');
    expect(header!.split(',').slice(0, 5)).toEqual(['runId', 'sn', 'model', 'port', 'merchant']);
    expect(row!.split(',').slice(1, 4)).toEqual(['PAX0000042', 'A920', real.port]);
  });
});

describe('history --oneline', () => {
  it('prints one line per run, newest first: terminal, port, outcome, dry runs marked', async () => {
    const run = await cli.run(['history', '--oneline']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\S+Z provision PB-MOCK sn PBM0000077 on ${mockOverTcp.port}  provisioned  by \\S+ at \\S+$`,
      ),
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^\\S+Z provision A920 sn PAX0000042 on ${real.port}  planned \\(dry run\\)  by \\S+ at \\S+$`,
      ),
    );
    // The full form has the steps under each line.
    const full = await cli.run(['history']);
    expect(full.stdout.split('\n').length).toBeGreaterThan(lines.length * 3);
    expect(full.stdout).toContain(lines[0]);
  });
});
