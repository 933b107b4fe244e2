/**
 * The built CLI with an SQLite module that does not load (what a switch of Node versions does to
 * a global install): the commands that do not use the audit trail work, diag works and says it is
 * unrecorded, and the ones that need the trail stop with the command that fixes it
 * (`npm rebuild -g better-sqlite3`), exit 1, no stack trace, nothing sent to the terminal.
 *
 * The app is dist/ in a temporary directory whose node_modules are the project's, except
 * better-sqlite3, whose native addon is replaced by a file that is no shared object: dlopen fails
 * for real (ERR_DLOPEN_FAILED), as it does for an addon built for another NODE_MODULE_VERSION
 * (test/package/ sees that case under Node 22 and 24).
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { PROCESS_TIMEOUT_MS, REPO_ROOT, requireBuiltCli } from '../support/cli-process.js';

let app: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  requireBuiltCli();
  app = mkdtempSync(join(tmpdir(), 'posbridge-abi-'));
  cpSync(join(REPO_ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n');
  const modules = join(REPO_ROOT, 'node_modules');
  mkdirSync(join(app, 'node_modules'));
  for (const name of readdirSync(modules)) {
    if (name === 'better-sqlite3' || name === '.bin') continue;
    symlinkSync(join(modules, name), join(app, 'node_modules', name));
  }
  const sqlite = join(app, 'node_modules', 'better-sqlite3');
  mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
  cpSync(join(modules, 'better-sqlite3', 'package.json'), join(sqlite, 'package.json'));
  // Copied, not linked: Node resolves links, and bindings looks for the addon next to lib/.
  cpSync(join(modules, 'better-sqlite3', 'lib'), join(sqlite, 'lib'), { recursive: true });
  writeFileSync(join(sqlite, 'build', 'Release', 'better_sqlite3.node'), 'built for another Node.js\n');
  env = cleanEnv(app);
}, 60_000);

afterAll(() => rmSync(app, { recursive: true, force: true }));

/** The copy's own main.js, so that better-sqlite3 resolves to the broken one. */
function run(args: string[], input = '') {
  const child = spawnSync(process.execPath, [join(app, 'dist', 'cli', 'main.js'), ...args], {
    cwd: app,
    env,
    input,
    encoding: 'utf8',
    timeout: PROCESS_TIMEOUT_MS,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('an SQLite module that does not load', () => {
  it('info works; provision stops with the rebuild command, exit 1, nothing sent', () => {
    const info = run(['info', '--port', 'mock://a']);
    expect(info.stderr).toBe('');
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/PB-MOCK sn PBM0000001/);

    const provision = run(
      [
        'provision',
        '--port',
        'mock://a',
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
        '--trace',
        join(app, 'wire.trace'),
      ],
      'Adm1n-2026\n',
    );
    expect(provision.code).toBe(1);
    expect(provision.stderr).toMatch(
      /^error: the audit trail cannot be used: its SQLite module \(better-sqlite3\) does not load/m,
    );
    expect(provision.stderr).toMatch(/what to do: run `npm rebuild -g better-sqlite3` with this Node\.js/);
    expect(provision.stderr).not.toMatch(STACK_LINE);
    // Nothing went to the terminal: the trace holds no line sent.
    const trace = existsSync(join(app, 'wire.trace')) ? readFileSync(join(app, 'wire.trace'), 'utf8') : '';
    expect(trace).not.toMatch(/HELLO|LOGIN/);
  });

  it('diag runs and says it is not recorded; history names the fix in its JSON error', () => {
    const diag = run(['diag', '--port', 'mock://b?diag-time-scale=0', '--json']);
    expect(diag.stderr).toMatch(
      /^warning: the audit trail cannot be used: .*this diag run goes unrecorded \(to fix: npm rebuild -g better-sqlite3\)$/m,
    );
    // A factory terminal refuses DIAG before a login: the run reached the terminal.
    expect(JSON.parse(diag.stdout).error.code).not.toBe('AUDIT_UNAVAILABLE');

    writeFileSync(env.POSBRIDGE_AUDIT!, 'SQLite format 3\0');
    const history = run(['history', '--json']);
    expect(history.code).toBe(1);
    const { error } = JSON.parse(history.stdout);
    expect(error.code).toBe('AUDIT_UNAVAILABLE');
    expect(error.hint).toMatch(/`npm rebuild -g better-sqlite3`/);
  });
});
