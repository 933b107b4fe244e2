/**
 * The package as a technician gets it (`npm run test:package`, run by .ci/run): `npm pack` from
 * the tree (prepack builds dist/), the tarball's contents, then, under Node 20, 22 and 24 each
 * (the npm registry's `node` package), `npm install -g --prefix TMP posbridge-*.tgz` and, from
 * that install alone: `posbridge demo`; `posbridge mock --pty` with `info` and `provision` over
 * the pty; `history --verify` of the trail they wrote; the man page and the completion; where
 * Node's compile cache goes (Node 22+: the user's cache directory, never TMPDIR). Last, a
 * global install run under another Node than it was built with: the commands that need no audit
 * trail still work, the others name `npm rebuild -g better-sqlite3`, and that command fixes it.
 *
 * Each install compiles better-sqlite3 for its Node (about two CPU-minutes). They run at once,
 * started before the first test, and each version's tests await their own install; the rebuild
 * finds its objects in the compiler cache the Node 24 install filled (package-rig.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/tools.js';
import {
  installGlobally,
  type NodeRuntime,
  type NpmOutcome,
  nodeRuntime,
  npm,
  packTarball,
  pathFor,
  run,
} from './package-rig.js';

const VERSIONS = [20, 22, 24] as const;
const work = mkdtempSync(join(tmpdir(), 'posbridge-package-'));
let tarball: string;
const runtimes = new Map<number, NodeRuntime>();
const installs = new Map<number, Promise<NpmOutcome>>();
/** Set by a version's first test once its install succeeded. */
const prefixes = new Map<number, string>();
const mocks: ChildProcess[] = [];

const prefixFor = (major: number): string => join(work, `prefix${major}`);
/** The compiler cache every build in this file shares (package-rig.ts, CCACHE_LINKS). */
const compilerCache = join(work, 'ccache');

beforeAll(async () => {
  // The build inside `npm pack` while the Nodes download; then every install at once.
  const [packed, ...nodes] = await Promise.all([
    packTarball(work),
    ...VERSIONS.map((major) => nodeRuntime(major, work)),
  ]);
  tarball = packed;
  for (const node of nodes) {
    runtimes.set(node.major, node);
    installs.set(node.major, installGlobally(node, tarball, prefixFor(node.major), compilerCache));
  }
});

afterAll(async () => {
  for (const mock of mocks) mock.kill('SIGKILL');
  // No npm left writing into the directory about to go (a test that failed early never awaited its install).
  await Promise.all(installs.values());
  rmSync(work, { recursive: true, force: true });
});

/** A technician's environment: their own home, nothing of the caller's posbridge settings. */
function userEnv(home: string, node: NodeRuntime, prefix: string): NodeJS.ProcessEnv {
  return {
    HOME: home,
    PATH: pathFor(node, prefix),
    NO_COLOR: '1',
    XDG_DATA_HOME: join(home, 'data'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_RUNTIME_DIR: join(home, 'run'),
  };
}

/** `posbridge mock --pty PATH`, resolved once it says it is there. */
function startMock(env: NodeJS.ProcessEnv, cwd: string, pty: string): Promise<ChildProcess> {
  const child = spawn('posbridge', ['mock', '--pty', pty, '--baud', '0', '--diag-time-scale', '0'], {
    cwd,
    env,
  });
  mocks.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mock --pty: no start line in 60 s\n${out}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(`on pty ${pty}`)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('exit', (code) => reject(new Error(`mock --pty exited ${code}\n${out}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('close', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npm pack', () => {
  it('ships the built CLI, its man page and completions, the docs and contrib: no sources or tests', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/man/posbridge.1');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/completions/posbridge.bash',
        'package/dist/completions/_posbridge',
        'package/dist/completions/posbridge.fish',
        'package/docs/cli.md',
        'package/contrib/posbridge.service',
        'package/contrib/70-posbridge.rules',
        'package/README.md',
      ]),
    );
    expect(files.filter((f) => /^package\/(src|test|bench)\//.test(f) || f.endsWith('.ts'))).toEqual([]);
    expect(files.length).toBeLessThan(400);
    const manifest = JSON.parse(
      execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    );
    expect(manifest.dependencies).toHaveProperty('@serialport/bindings-cpp');
    expect(manifest.dependencies).not.toHaveProperty('@serialport/parser-readline');
  });
});

describe.each(VERSIONS)('installed globally from the tarball under Node %i', (major) => {
  const home = join(work, `home${major}`);
  const prefix = prefixFor(major);

  it('installs', async () => {
    const install = await installs.get(major)!;
    expect(install.status, install.output).toBe(0);
    prefixes.set(major, prefix);
    mkdirSync(home, { recursive: true });
  });

  it(`keeps Node's compile cache in $XDG_CACHE_HOME/posbridge/node-compile-cache (Node 22+), nothing in TMPDIR`, async () => {
    const node = runtimes.get(major)!;
    expect(prefixes.get(major), 'installed').toBe(prefix);
    // Both fresh: what is in them after one command is that command's. The shared temp directory
    // is where another user could plant compiled code for posbridge to run (src/cli/main.ts).
    const cacheHome = join(work, `cache${major}`);
    const tmp = join(work, `tmp${major}`);
    mkdirSync(tmp);
    const env = { ...userEnv(home, node, prefix), XDG_CACHE_HOME: cacheHome, TMPDIR: tmp };
    const info = await run(['posbridge', 'info', '--port', 'mock://a'], { env, cwd: home });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/PB-MOCK sn PBM0000001/);

    const cache = join(cacheHome, 'posbridge', 'node-compile-cache');
    // Node 20 has no module.enableCompileCache: no cache, and the command runs all the same.
    expect(existsSync(cache), cache).toBe(major >= 22);
    if (major >= 22) {
      const files = readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((entry) =>
        statSync(join(cache, entry)).isFile(),
      );
      expect(files.length, `compiled modules in ${cache}`).toBeGreaterThan(0);
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('runs demo; mock --pty with info and provision; history --verify; the man page and completion', async () => {
    const node = runtimes.get(major)!;
    expect(prefixes.get(major), 'installed').toBe(prefix);
    const env = userEnv(home, node, prefix);
    const version = await run(['node', '--version'], { env, cwd: home });
    expect(version.stdout).toMatch(new RegExp(`^v${major}\\.`));

    const demo = await run(['posbridge', 'demo'], { env, cwd: home });
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);

    const pty = join(home, 'pos0');
    const mock = await startMock(env, home, pty);
    const info = await run(['posbridge', 'info', '--port', pty], { env, cwd: home });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/PB-MOCK sn PBM0000001/);
    const provision = await run(
      [
        'posbridge',
        'provision',
        '--port',
        pty,
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--admin-password-stdin',
        '--credentials-out',
        join(home, 'operators.txt'),
      ],
      { env, cwd: home, input: 'Adm1n-2026\n' },
    );
    expect(provision.code, `${provision.stdout}\n${provision.stderr}`).toBe(0);
    expect(await stopped(mock)).toBe(0);

    const verify = await run(['posbridge', 'history', '--verify'], { env, cwd: home });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact/);

    const lib = join(prefix, 'lib', 'node_modules', 'posbridge');
    // npm links the page where `man posbridge` finds it (package.json "man").
    expect(realpathSync(join(prefix, 'share', 'man', 'man1', 'posbridge.1'))).toBe(
      realpathSync(join(lib, 'dist', 'man', 'posbridge.1')),
    );
    if (requireTool('man', 'man-db')) {
      const man = await run(['man', '-l', '-P', 'cat', join(lib, 'dist', 'man', 'posbridge.1')], {
        env: { ...env, MANWIDTH: '80' },
        cwd: home,
      });
      expect(man.stdout).toMatch(/^POSBRIDGE\(1\)/);
    }
    const completion = await run(['posbridge', 'completion', 'bash'], { env, cwd: home });
    expect(completion.stdout).toBe(readFileSync(join(lib, 'dist', 'completions', 'posbridge.bash'), 'utf8'));
  });
});

describe('an install run under another Node than it was built with', () => {
  it('works without the audit trail, names `npm rebuild -g better-sqlite3`, and that fixes it', async () => {
    const other = runtimes.get(24)!;
    const prefix = prefixes.get(22)!;
    expect(prefix, 'the Node 22 install').toBeDefined();
    const home = join(work, 'home22');
    const env = userEnv(home, other, prefix);

    const info = await run(['posbridge', 'info', '--port', 'mock://a'], { env, cwd: home });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/PB-MOCK sn PBM0000001/);

    const broken = await run(['posbridge', 'history', '--verify'], { env, cwd: home });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /its SQLite module \(better-sqlite3\) was built for another Node\.js \(module version \d+\); Node\.js v\d+\S* needs module version \d+/,
    );
    expect(broken.stderr).toMatch(/npm rebuild -g better-sqlite3/);
    expect(broken.stderr).not.toMatch(/^\s+at /m);

    // The command the hint gives, as the technician would type it (their prefix is npm's own).
    const rebuild = await npm(
      other,
      ['rebuild', '-g', '--prefix', prefix, 'better-sqlite3'],
      home,
      compilerCache,
    );
    expect(rebuild.status, rebuild.output).toBe(0);
    const fixed = await run(['posbridge', 'history', '--verify'], { env, cwd: home });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/intact/);
  });
});
