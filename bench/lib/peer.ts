/**
 * The bare-loop peers of the stack-overhead benchmark, driven over their stdin/stdout (warm-up,
 * then one measured window per `go`):
 * - python: bench/peer/bare-loop.py, the loop issue 12 names as the peer (os.write / select /
 *   os.read), run by python3;
 * - c: bench/peer/bare-loop.c (write, poll, read), compiled here with the system's C compiler into
 *   bench/.out/peer: the kernel and the mock with as little as possible in front of them.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Compiled to bench/.out/bench/lib/peer.js.
const PEER_DIR = fileURLToPath(new URL('../../../peer/', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../../peer/', import.meta.url));
const BINARY = `${OUT_DIR}bare-loop`;

export type PeerKind = 'python' | 'c';

export interface BuiltPeer {
  kind: PeerKind;
  command: string;
  args: string[];
  /** How it runs, for the report: `python3 bench/peer/bare-loop.py`, `cc -O2 bench/peer/bare-loop.c`. */
  how: string;
}

/** Compiles the C peer with cc or gcc; throws with what went wrong when neither works. */
function buildC(): BuiltPeer {
  mkdirSync(OUT_DIR, { recursive: true });
  const problems: string[] = [];
  for (const compiler of ['cc', 'gcc']) {
    const result = spawnSync(compiler, ['-O2', '-o', BINARY, `${PEER_DIR}bare-loop.c`], { encoding: 'utf8' });
    if (result.status === 0)
      return { kind: 'c', command: BINARY, args: [], how: `${compiler} -O2 bench/peer/bare-loop.c` };
    problems.push(`${compiler}: ${result.error?.message ?? result.stderr.trim().split('\n')[0]}`);
  }
  throw new Error(`cannot compile the C bare-loop peer (${problems.join('; ')})`);
}

/** The python3 peer; throws when there is no python3. */
function findPython(): BuiltPeer {
  const result = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`no python3 for the Python peer (${result.error?.message ?? result.stderr.trim()})`);
  const version = (result.stdout || result.stderr).trim();
  return {
    kind: 'python',
    command: 'python3',
    args: [`${PEER_DIR}bare-loop.py`],
    how: `python3 bench/peer/bare-loop.py (${version})`,
  };
}

export function buildPeer(kind: PeerKind): BuiltPeer {
  return kind === 'c' ? buildC() : findPython();
}

export interface PeerWindow {
  count: number;
  elapsedMs: number;
  /** The peer's own user + system CPU during the window, µs. */
  cpuUs: number;
}

export interface RunningPeer {
  pid: number;
  window(ms: number): Promise<PeerWindow>;
  close(): Promise<void>;
}

/** Starts the peer on `port`; resolves once it has opened the port and done `warmup` round trips. */
export async function startPeer(peer: BuiltPeer, port: string, warmup: number): Promise<RunningPeer> {
  const child: ChildProcessWithoutNullStreams = spawn(peer.command, [...peer.args, port, String(warmup)]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const waiters: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiters.shift()?.(line));
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      waiters.push(resolve);
      void exited.then(() =>
        reject(new Error(`the ${peer.kind} bare-loop peer exited before ${what}: ${stderr.trim()}`)),
      );
    });
  const warm = await next('its warm-up');
  if (warm !== 'warm') throw new Error(`the ${peer.kind} bare-loop peer said ${JSON.stringify(warm)}`);
  return {
    pid: child.pid!,
    async window(ms) {
      const answer = next('the end of a window');
      child.stdin.write(`go ${ms}\n`);
      return JSON.parse(await answer) as PeerWindow;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.stdin.end('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
