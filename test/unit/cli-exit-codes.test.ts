/**
 * The command line's contract (docs/cli.md, "Exit codes"), through `runCli` in-process with
 * the production composition: exit 0 success, 1 the terminal said no or a check failed, 2 usage
 * error (one line, no stack trace, nothing sent), 3 the terminal cannot be reached or stopped
 * answering, 4 lockout. Plus --help and --version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditError } from '../../src/audit/index.js';
import { productionDeps } from '../../src/cli/compose.js';
import { exitCodeFor, exitCodeForReport } from '../../src/cli/exit-codes.js';
import { processIo } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { VERSION } from '../../src/cli/version.js';
import { PosbridgeError, TerminalError } from '../../src/host/errors.js';
import { MockConfigError } from '../../src/mock-device/index.js';
import { TransportError } from '../../src/mock-device/transports/index.js';
import { CodedError, codedErrorJson } from '../../src/protocol/index.js';
import { ADMIN_PASSWORD, CliHarness, type CliRun, STACK_LINE } from '../support/cli-inproc.js';
import { REPO_ROOT } from '../support/cli-process.js';

let cli: CliHarness;
beforeEach(() => {
  cli = new CliHarness();
});
afterEach(() => {
  cli.dispose();
});

/** A usage error: exit 2, one `error:` line naming the problem (commander may add a help hint), no stack. */
function expectUsageError(run: CliRun, names: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(names);
  expect(lines.filter((line) => line.startsWith('error'))).toHaveLength(1);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(run.stderr).not.toMatch(STACK_LINE);
}

describe('usage errors: exit 2, one line, no stack trace', () => {
  it('an unknown flag', async () => {
    expectUsageError(await cli.run(['info', '--port', 'mock://u', '--bogus']), /unknown option '--bogus'/);
  });

  it('no command at all: the help, on stderr, and exit 2 (found by this test: was 0)', async () => {
    for (const argv of [[], ['operator']]) {
      const run = await cli.run(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^Usage: posbridge /);
    }
  });

  it('an unknown command', async () => {
    expectUsageError(await cli.run(['frobnicate']), /unknown command 'frobnicate'/);
  });

  it('a missing --port', async () => {
    expectUsageError(await cli.run(['info']), /--port/);
    expectUsageError(await cli.run(['diag', '--checks', 'power']), /--port/);
  });

  it('a bad --baud, --timeout, --log-level or --log-format', async () => {
    expectUsageError(await cli.run(['info', '--port', 'mock://u', '--baud', 'fast']), /--baud.*"fast"/);
    expectUsageError(await cli.run(['info', '--port', 'mock://u', '--baud', '0']), /--baud/);
    expectUsageError(await cli.run(['info', '--port', 'mock://u', '--timeout', '-5']), /--timeout/);
    // Found by this test: pino threw on an unknown level ("internal error", exit 1).
    expectUsageError(
      await cli.run(['info', '--port', 'mock://u', '--log-level', 'loud']),
      /--log-level.*"loud"/,
    );
    // Found by this test: an unknown format was silently taken as json.
    expectUsageError(
      await cli.run(['info', '--port', 'mock://u', '--log-format', 'xml']),
      /--log-format.*"xml"/,
    );
  });

  it('bad provisioning input is refused before anything is sent', async () => {
    const bad = await cli.run(
      [
        'provision',
        '--port',
        'mock://u',
        '--merchant',
        '12345',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
      ],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: --merchant must be 15 digits, not "12345"\n {2}what to do: .*nothing was sent/,
    );
    const weak = await cli.run(
      [
        'provision',
        '--port',
        'mock://u',
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
      ],
      '123456\n',
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/^error: the new admin password /);
    expect(weak.stderr).not.toContain('123456');
    // Nothing was sent: the terminal is still in factory state, with every attempt left.
    const info = await cli.run(['info', '--port', 'mock://u', '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ status: { state: 'factory', attemptsLeft: 5 } });
  });

  it('a secret asked for on stdin that is not there', async () => {
    const run = await cli.run(
      [
        'provision',
        '--port',
        'mock://u',
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
      ],
      '',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: standard input ended before the admin password\n/);
  });

  it('a bad mock:// option', async () => {
    const run = await cli.run(['info', '--port', 'mock://fresh?colour=blue']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: unknown mock:\/\/ option "colour"\n/);
  });

  it('with --json the error is one JSON document on stdout', async () => {
    const run = await cli.run(['diag', '--port', 'mock://u', '--checks', 'power,flux', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'USAGE', message: 'unknown check "flux"', hint: expect.stringContaining('power') },
    });
  });
});

describe('unreachable terminals: exit 3 naming the port', () => {
  it('a device path that does not exist', async () => {
    const run = await cli.run(['info', '--port', '/dev/does-not-exist']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: no such port: \/dev\/does-not-exist\n {2}what to do: /);
    expect(run.stderr).not.toMatch(STACK_LINE);
  });

  it('a TCP address that refuses the connection', async () => {
    const run = await cli.run(['info', '--port', 'tcp://127.0.0.1:1']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: tcp:\/\/127\.0\.0\.1:1: connection refused\n/);
    const json = await cli.run(['info', '--port', 'tcp://127.0.0.1:1', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).error.message).toContain('tcp://127.0.0.1:1');
  });

  it('a terminal that restarts in the middle of a command (found by this test: was exit 1)', async () => {
    const run = await cli.run([
      'info',
      '--port',
      'mock://rebooting?fault=reboot-at:n=2&reboot-ms=20',
      '--timeout',
      '300',
    ]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/^error: STATUS on mock:\/\/rebooting.*restarted/);
  });
});

describe('diag: exit 1 if a check failed, 0 if none did', () => {
  it('a provisioned terminal with the printer out of paper: 1, with the code and its hint', async () => {
    const port = 'mock://paper?diag-fail=printer:paper_out';
    const provisioned = await cli.provision(port);
    expect(provisioned.stdout).toContain(': provisioned\n');
    expect(provisioned.code).toBe(1); // provisioned, but a check failed
    const run = await cli.run(
      ['diag', '--port', 'mock://paper', '--admin-password-stdin'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^ {4}printer +fail paper_out: .*paper/m);
    expect(run.stdout).toMatch(/^diagnostics of sn \S+: \d+ pass, \d+ warn, 1 fail\n$/m);
    // Only the checks asked for: the printer left out, nothing failed.
    const some = await cli.run(
      ['diag', '--port', 'mock://paper', '--checks', 'power,network', '--admin-password-stdin', '--json'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(some.code).toBe(0);
    expect(JSON.parse(some.stdout).diagnostics).toMatchObject({ pass: 2, warn: 0, fail: 0 });
  });

  it('a provisioned terminal without faults: 0 (a warning is not a failure)', async () => {
    expect((await cli.provision('mock://healthy')).code).toBe(0);
    const run = await cli.run(
      ['diag', '--port', 'mock://healthy', '--admin-password-stdin'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/0 fail\n$/);
  });

  it('a factory terminal: 1, "run posbridge provision first", and the factory password kept', async () => {
    const run = await cli.run(['diag', '--port', 'mock://factory']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('run posbridge provision first');
  });
});

describe('lockout: exit 4', () => {
  it('stops before spending the last login attempt on a password not known to be right', async () => {
    expect((await cli.provision('mock://careful')).code).toBe(0);
    for (let left = 4; left >= 1; left--) {
      const wrong = await cli.run(
        ['diag', '--port', 'mock://careful', '--admin-password-stdin'],
        'Wrong-Pass-9\n',
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(left === 1 ? '(1 attempt left)' : `(${left} attempts left)`);
    }
    const run = await cli.run(
      ['diag', '--port', 'mock://careful', '--admin-password-stdin', '--json'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout).error.code).toBe('LOCKOUT_RISK');
    const info = await cli.run(['info', '--port', 'mock://careful', '--json']);
    expect(JSON.parse(info.stdout).status).toMatchObject({ locked: false, attemptsLeft: 1 });
  });

  it('a terminal locked by failed logins (typed in the console): provision stops, nothing sent', async () => {
    const typed = 'LOGIN user=admin password=Guess-1\n'.repeat(5);
    const session = await cli.run(['console', '--port', 'mock://locked', '--raw', '--no-history'], typed);
    expect(session.stdout).toMatch(/^< ERR code=401 reason=bad-credentials remaining=0/m);
    const run = await cli.provision('mock://locked');
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout).toContain(
      'the terminal is locked after failed login attempts; posbridge sent no password',
    );
  });
});

describe('exit codes of errors, one table (src/cli/exit-codes.ts exitCodeFor)', () => {
  const locked = new TerminalError({
    verb: 'LOGIN',
    fields: { code: '423', reason: 'locked', retry_after: '60' },
  });
  it.each([
    ['a 423 from the terminal', locked, 4],
    [
      'a 401 that used the last attempt',
      new TerminalError({
        verb: 'LOGIN',
        fields: { code: '401', reason: 'bad-credentials', remaining: '0' },
      }),
      4,
    ],
    ['a 409', new TerminalError({ verb: 'INIT', fields: { code: '409', reason: 'wrong-state' } }), 1],
    ['a reboot mid-command', new PosbridgeError('REBOOTED', 'x'), 3],
    ['a closed session', new PosbridgeError('CLOSED', 'x'), 3],
    ['a weak password', new PosbridgeError('WEAK_PASSWORD', 'x'), 2],
    ['a lockout risk', new PosbridgeError('LOCKOUT_RISK', 'x'), 4],
    ['an audit trail that cannot be written', new AuditError('AUDIT_WRITE_FAILED', 'x'), 1],
    ['a bad mock option', new MockConfigError('x'), 2],
    ['a mock state file that does not read', new MockConfigError('x', 'STATE_FILE'), 2],
    ['a mock pty link that is not ours to replace', new TransportError('PATH_EXISTS', 'x'), 2],
    ['a mock TCP port that cannot listen', new TransportError('LISTEN_FAILED', 'x'), 1],
    ['a code no table knows', new CodedError('NOT_A_CODE', 'x'), 1],
    ['something that is not ours', new Error('x'), 1],
  ])('%s', (_, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('every posbridge error is a CodedError (one class for runAction to catch)', () => {
    for (const error of [
      locked,
      new PosbridgeError('USAGE', 'x'),
      new AuditError('AUDIT_CORRUPT', 'x'),
      new MockConfigError('x'),
      new TransportError('PTY_FAILED', 'x'),
    ]) {
      expect(error).toBeInstanceOf(CodedError);
      expect(error.toJSON()).toMatchObject({ code: error.code, message: error.message });
    }
  });
});

describe('a report that stopped early exits through the same table as its error', () => {
  const report = (error?: CodedError, fail = 0) => ({
    ...(error && { error: JSON.parse(JSON.stringify(codedErrorJson(error))) }),
    ...(fail > 0 && { diagnostics: { pass: 0, warn: 0, fail, results: [] } }),
  });
  const locked = new TerminalError({
    verb: 'LOGIN',
    fields: { code: '423', reason: 'locked', retry_after: '60' },
  });
  const lastAttempt = new TerminalError({
    verb: 'LOGIN',
    fields: { code: '401', reason: 'bad-credentials', remaining: '0' },
  });
  it.each([
    ['a 423 (read back from JSON: its status travels with it)', report(locked), 4],
    ['a 401 that used the last attempt', report(lastAttempt), 4],
    [
      'a 503 the session gave up on',
      report(new TerminalError({ verb: 'DIAG', fields: { code: '503', reason: 'busy' } })),
      3,
    ],
    ['a tampered terminal (quarantined)', report(new PosbridgeError('TAMPERED', 'x')), 1],
    ['a lockout risk', report(new PosbridgeError('LOCKOUT_RISK', 'x')), 4],
    ['a terminal that restarted twice', report(new PosbridgeError('REBOOTED', 'x')), 3],
    ['a run that went through but a check failed', report(undefined, 1), 1],
    ['a run that went through', report(), 0],
  ])('%s', (_, stopped, code) => {
    expect(exitCodeForReport(stopped)).toBe(code);
    if (stopped.error) expect(exitCodeForReport(stopped)).toBe(exitCodeFor(stopped.error));
  });
});

describe('--help and --version', () => {
  /** Every command and subcommand the program has, as typed: ['operator', 'add'], ... */
  function commandPaths(): string[][] {
    const program = buildProgram({ ...productionDeps(processIo()), result: { exitCode: 0 } });
    const walk = (command: Command, prefix: string[]): string[][] =>
      command.commands.flatMap((c) => [[...prefix, c.name()], ...walk(c, [...prefix, c.name()])]);
    return walk(program, []);
  }

  it('the program has the commands of docs/cli.md', () => {
    const names = commandPaths().map((p) => p.join(' '));
    for (const name of [
      'ports',
      'info',
      'provision',
      'passwd',
      'operator list',
      'operator add',
      'operator set',
      'operator del',
      'diag',
      'console',
      'mock',
      'demo',
    ])
      expect(names).toContain(name);
  });

  it.each(commandPaths())('posbridge %s --help shows an Example and exits 0', async (...command) => {
    const run = await cli.run([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: posbridge ${command.join(' ')} \\[options\\]`));
    expect(run.stdout).toMatch(/^Examples?:$/m);
    expect(run.stdout).toMatch(/^ {2}(printf .*\| )?posbridge \S/m);
  });

  it('--version prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const run = await cli.run([flag]);
      expect(run).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });
});
