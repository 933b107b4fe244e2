/**
 * The "done when" for serial servers: the real ser2net 4 (Debian's) started here on a free
 * loopback port with the config docs/cli.md shows, in front of `posbridge mock` on a pty, and
 * `posbridge` in its own process on `rfc2217://`: a provision end to end, ser2net killed mid-run
 * (exit 3; after a restart the rerun finishes, the admin password changed once), and plain
 * `telnet://` through ser2net's telnet accepter without the garbled first reply of `tcp://`.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, STACK_LINE } from '../support/cli-inproc.js';
import { Children, type CliProcess, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS, provisionArgv } from '../support/constants.js';
import { freePort, requireSer2net, Ser2net, testConfig } from '../support/ser2net.js';
import { deadline } from '../support/wait.js';

let dir: string;
const children = new Children();
const servers: Ser2net[] = [];

beforeEach(() => {
  requireBuiltCli();
  requireSer2net();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-ser2net-'));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `posbridge mock --pty DIR/pos0 ...`, once it is ready. */
async function mockOnPty(extra: string[] = []): Promise<{ mock: CliProcess; pty: string }> {
  const pty = join(dir, 'pos0');
  const mock = children.spawn(['mock', '--pty', pty, '--baud', '0', ...extra], { cwd: dir });
  await mock.waitForStdout(/^mock terminal PBM0000001 on pty /m, 'the mock to print its pty');
  return { mock, pty };
}

async function ser2net(config: string, ports: number[]): Promise<Ser2net> {
  const server = new Ser2net(dir, config, ports);
  servers.push(server);
  return server.start();
}

function provisionArgs(port: string, extra: string[] = []): string[] {
  return [...provisionArgv(port), ...extra];
}

/** The mock's log lines for commands it executed (`"msg":"command"`), as their masked requests. */
function executed(mock: CliProcess): string[] {
  return mock.stderr
    .split('\n')
    .filter((line) => line.includes('"msg":"command"'))
    .map((line) => (JSON.parse(line) as { request: string }).request);
}

describe('posbridge through ser2net (RFC 2217)', () => {
  it(
    'provisions end to end with the docs/cli.md config, the trace shows TSP/1 bytes only, and a rerun changes nothing',
    async () => {
      const { mock, pty } = await mockOnPty(['--diag-time-scale', '0']);
      const port = await freePort();
      await ser2net(testConfig(pty, port), [port]);
      const url = `rfc2217://127.0.0.1:${port}`;
      const trace = join(dir, 'wire.trace');

      const first = await runCliProcess(provisionArgs(url, ['--trace', trace]), {
        cwd: dir,
        input: `${ADMIN_PASSWORD}\n`,
      });
      expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
      expect(first.stdout).toMatch(/PB-MOCK sn PBM0000001 fw 1\.0\.0: provisioned\n/);
      expect(first.stderr).not.toMatch(STACK_LINE);
      const wire = readFileSync(trace, 'utf8');
      expect(wire).toMatch(/> @\d+ HELLO proto=1 \*[0-9A-F]{4}/);
      // Unescaped: no Telnet byte (shown as \xFF) and no garbled reply.
      expect(wire).not.toMatch(/\\xFF/i);
      expect(wire).not.toContain(ADMIN_PASSWORD);

      const rerun = await runCliProcess(provisionArgs(url), { cwd: dir, input: `${ADMIN_PASSWORD}\n` });
      expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
      expect(rerun.stdout).toContain('already provisioned: nothing changed');
      expect(executed(mock).filter((r) => /PASSWD old=/.test(r))).toHaveLength(1);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'ser2net killed mid-run: exit 3 naming the port; after a restart the rerun finishes, one admin PASSWD in all',
    async () => {
      // DIAG at five times its typical time keeps the run going for seconds after the admin PASSWD.
      const { mock, pty } = await mockOnPty(['--diag-time-scale', '5']);
      const port = await freePort();
      const config = testConfig(pty, port);
      const server = await ser2net(config, [port]);
      const url = `rfc2217://127.0.0.1:${port}`;

      const cut = children.spawn(provisionArgs(url), { cwd: dir, input: `${ADMIN_PASSWORD}\n` });
      // The admin password has just been changed on the terminal: pull the server out now.
      await mock.waitForStderr(/"request":"@\d+ PASSWD old=/, 'the admin PASSWD to run');
      await server.stop('SIGKILL');
      const { code } = await cut.waitForExit();
      expect(code, cut.describe()).toBe(3);
      const said = `${cut.stdout}${cut.stderr}`;
      expect(said).toContain(url);
      expect(said).toMatch(/went away/);
      expect(said).not.toMatch(STACK_LINE);
      expect(cut.stdout).not.toMatch(/: provisioned\n/);

      await ser2net(config, [port]);
      const rerun = await runCliProcess(provisionArgs(url, ['--json']), {
        cwd: dir,
        input: `${ADMIN_PASSWORD}\n`,
      });
      expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
      const report = JSON.parse(rerun.stdout) as {
        outcome: string;
        steps: Array<{ step: string; outcome: string }>;
      };
      expect(report.outcome).toBe('provisioned');
      expect(report.steps.find((s) => s.step === 'admin-password')?.outcome).toBe('already');
      expect(executed(mock).filter((r) => /PASSWD old=/.test(r))).toHaveLength(1);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'a second client while ser2net serves one: port busy, exit 3, and the first is not disturbed',
    async () => {
      const { pty } = await mockOnPty();
      const port = await freePort();
      await ser2net(testConfig(pty, port), [port]);
      const url = `rfc2217://127.0.0.1:${port}`;
      // The first client: a connection ser2net has greeted (its Telnet negotiation arrived).
      const first = net.connect(port, '127.0.0.1');
      first.on('error', () => undefined);
      await deadline(once(first, 'data'), 'ser2net to greet the first client');
      try {
        const second = await runCliProcess(['info', '--port', url], { cwd: dir });
        expect(second.code, second.stderr).toBe(3);
        expect(second.stderr).toContain(`port busy: ${url}: the serial server closed the connection`);
        expect(second.stderr).toContain('Port already in use');
        expect(first.destroyed).toBe(false);
      } finally {
        first.destroy();
      }
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'telnet:// through the plain telnet accepter reads the first reply clean, where tcp:// garbles it',
    async () => {
      await mockOnPty();
      const [port, telnetPort] = [await freePort(), await freePort()];
      await ser2net(testConfig(join(dir, 'pos0'), port, telnetPort), [port, telnetPort]);

      const telnet = await runCliProcess(
        ['info', '--port', `telnet://127.0.0.1:${telnetPort}`, '--log-level', 'warn'],
        {
          cwd: dir,
        },
      );
      expect(telnet.code, telnet.stderr).toBe(0);
      expect(telnet.stdout).toMatch(/^PB-MOCK sn PBM0000001 .* on telnet:\/\//);
      expect(telnet.stderr).toBe('');

      const raw = await runCliProcess(
        ['info', '--port', `tcp://127.0.0.1:${telnetPort}`, '--log-level', 'warn'],
        {
          cwd: dir,
        },
      );
      expect(raw.stderr).toMatch(/damaged line from the terminal/);
    },
    E2E_TIMEOUT_MS,
  );
});
