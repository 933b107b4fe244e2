/**
 * What a command really loads when it runs (issue 12, start-up): the built CLI in a child process
 * with a module hook that notes every ES module Node loads, every CommonJS one (the packages
 * posbridge requires on demand: pino, better-sqlite3) and the built-ins. The static graph of
 * test/unit/cli-startup.test.ts cannot see what `import()` brings in while the command runs; this
 * sees it all. A load-insensitive figure, unlike the bench's wall time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv } from '../support/cli-inproc.js';
import { PROCESS_TIMEOUT_MS, REPO_ROOT, requireBuiltCli } from '../support/cli-process.js';
import { E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-startup-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(process.env.LOADED_OUT, 'module ' + url + '\\n');
  return nextLoad(url, context);
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('./hooks.mjs', import.meta.url);
process.on('exit', () => {
  const cjs = Object.keys(Module._cache).map((file) => 'module ' + pathToFileURL(file).href);
  const builtins = process.moduleLoadList.map((name) => 'builtin ' + name);
  appendFileSync(process.env.LOADED_OUT, [...cjs, ...builtins].join('\\n') + '\\n');
});
`,
  );
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Loaded {
  stdout: string;
  /** Files loaded, relative to the repository (node_modules/... or dist/...). */
  files: Set<string>;
  /** Node's built-in modules loaded (`http`, `internal/...`). */
  builtins: Set<string>;
}

function loadedBy(args: string[]): Promise<Loaded> {
  const out = join(dir, `loaded-${args[0]}.txt`);
  writeFileSync(out, '');
  const root = pathToFileURL(`${REPO_ROOT}/`).href;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', pathToFileURL(join(dir, 'register.mjs')).href, requireBuiltCli(), ...args],
      {
        cwd: dir,
        env: { ...cleanEnv(dir), LOADED_OUT: out, POSBRIDGE_SOCKET: join(dir, 'no-daemon.sock') },
        timeout: PROCESS_TIMEOUT_MS,
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${args.join(' ')}: ${error.message}\n${stderr}`));
        const files = new Set<string>();
        const builtins = new Set<string>();
        for (const line of readFileSync(out, 'utf8').split('\n')) {
          if (line.startsWith('builtin NativeModule '))
            builtins.add(line.slice('builtin NativeModule '.length));
          else if (line.startsWith('module ')) {
            const url = line.slice('module '.length).replace(/^file:\/\/\/work\/main\//, root);
            files.add(url.startsWith(root) ? url.slice(root.length) : url);
          }
        }
        resolve({ stdout, files, builtins });
      },
    );
  });
}

/** The packages among `files`: node_modules/NAME/... or node_modules/@SCOPE/NAME/.... */
function packagesOf(files: Set<string>): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (match) names.add(match[1]!);
  }
  return names;
}

describe('start-up: a command loads what it uses', { timeout: E2E_TIMEOUT_MS }, () => {
  it('info --port mock://x loads no zod, pino, SQLite, YAML, audit store, Telnet stack or HTTP client', async () => {
    const info = await loadedBy(['info', '--port', 'mock://x']);
    expect(info.stdout).toContain('PB-MOCK');
    const packages = packagesOf(info.files);
    expect(['zod', 'pino', 'better-sqlite3', 'yaml'].filter((p) => packages.has(p))).toEqual([]);
    const notNeeded = [
      'dist/audit/store.js', // info records nothing (src/audit/audited-engine.ts)
      'dist/audit/unrecorded-engine.js',
      'dist/host/operations/index.js', // the schemas of every request and result
      'dist/host/workflow/provision.js',
      'dist/host/workflow/profile.js',
      'dist/mock-device/state-schema.js',
      'dist/mock-device/transports/pty.js',
      'dist/host/ports/telnet/factory.js',
      'dist/host/ports/sysfs-list.js',
      'dist/daemon/api/client.js',
      'dist/cli/manual/roff.js',
    ];
    expect(notNeeded.filter((file) => info.files.has(file))).toEqual([]);
    expect(['http', 'readline'].filter((name) => info.builtins.has(name))).toEqual([]);
    // The hook sees what is loaded: the mock, commander (ES wrapper and CommonJS).
    expect(info.files).toContain('dist/mock-device/terminal.js');
    expect(info.files).toContain('node_modules/commander/index.js');
  });

  it('what info leaves out loads once it is used: pino at --log-level debug', async () => {
    // Not vacuous: the same hook sees pino (required on demand, CommonJS) when a line is logged.
    const info = await loadedBy([
      'info',
      '--port',
      'mock://x',
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ]);
    expect(packagesOf(info.files)).toContain('pino');
  });

  it('a provisioning dry run opens the audit trail: SQLite and the store load', async () => {
    const provision = await loadedBy([
      'provision',
      '--port',
      'mock://x',
      '--merchant',
      '822100052110023',
      '--terminal',
      '10023456',
      '--dry-run',
    ]);
    expect(packagesOf(provision.files)).toContain('better-sqlite3');
    expect(provision.files).toContain('dist/audit/store.js');
  });
});
