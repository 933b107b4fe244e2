/**
 * The bare-loop peer of the stack-overhead benchmark (bench/peer/bare-loop.c): compiled here with
 * the system's C compiler into bench/.out/peer, and driven over its stdin/stdout (warm-up, then one
 * measured window per `go`).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Compiled to bench/.out/bench/lib/peer.js.
const SOURCE = fileURLToPath(new URL('../../../peer/bare-loop.c', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../../peer/', import.meta.url));
const BINARY = `${OUT_DIR}bare-loop`;

export interface BuiltPeer {
  binary: string;
  /** How it was built, for the report: `cc -O2 bench/peer/bare-loop.c`. */
  how: string;
}

/** Compiles the peer with cc or gcc; throws with what went wrong when neither works. */
export function buildPeer(): BuiltPeer {
  mkdirSync(OUT_DIR, { recursive: true });
  const problems: string[] = [];
  for (const compiler of ['cc', 'gcc']) {
    const result = spawnSync(compiler, ['-O2', '-o', BINARY, SOURCE], { encoding: 'utf8' });
    if (result.status === 0) return { binary: BINARY, how: `${compiler} -O2 bench/peer/bare-loop.c` };
    problems.push(`${compiler}: ${result.error?.message ?? result.stderr.trim().split('\n')[0]}`);
  }
  throw new Error(`cannot compile the bare-loop peer (${problems.join('; ')})`);
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
  const child: ChildProcessWithoutNullStreams = spawn(peer.binary, [port, String(warmup)]);
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
      void exited.then(() => reject(new Error(`the bare-loop peer exited before ${what}: ${stderr.trim()}`)));
    });
  const warm = await next('its warm-up');
  if (warm !== 'warm') throw new Error(`the bare-loop peer said ${JSON.stringify(warm)}`);
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
