/** Starts bench/mock-farm.ts in a child process and talks to it (see that file). */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childrenOf } from './proc.js';

export interface FarmOptions {
  transport: 'pty' | 'tcp';
  count: number;
  baud: number;
  diagTimeScale: number;
  /** Where pty links go. */
  dir: string;
}

export interface Farm {
  pid: number;
  ports: string[];
  /** The farm's children (the python pty bridges). */
  helperPids(): number[];
  /** Replaces every terminal by a factory-new one; resolves when done. */
  fresh(): Promise<void>;
  /** Starts measuring how late the farm's event loop runs. */
  loopStart(): void;
  /** Stops it: the farm's event-loop lateness since loopStart, ms. */
  loopStop(): Promise<FarmLoop>;
  close(): Promise<void>;
}

export interface FarmLoop {
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

const FARM_SCRIPT = fileURLToPath(new URL('../mock-farm.js', import.meta.url));

export async function startFarm(options: FarmOptions): Promise<Farm> {
  const child = spawn(
    process.execPath,
    [
      FARM_SCRIPT,
      '--transport',
      options.transport,
      '--count',
      String(options.count),
      '--baud',
      String(options.baud),
      '--diag-time-scale',
      String(options.diagTimeScale),
      '--dir',
      options.dir,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  type Message = { type: string; pid?: number; ports?: string[] } & Partial<FarmLoop>;
  const waiters: Array<(message: Message) => void> = [];
  lines.on('line', (line) => {
    let message: { type: string };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    waiters.shift()?.(message);
  });
  const next = () =>
    new Promise<Message>((resolve, reject) => {
      waiters.push(resolve);
      void exited.then(() => reject(new Error('the mock farm exited')));
    });

  const ready = await next();
  if (ready.type !== 'ready' || !ready.ports)
    throw new Error(`mock farm: unexpected ${JSON.stringify(ready)}`);
  const pid = child.pid!;
  let helpers: number[] | undefined;
  return {
    pid,
    ports: ready.ports,
    helperPids() {
      helpers ??= childrenOf(pid);
      return helpers;
    },
    async fresh() {
      const answer = next();
      child.stdin.write('fresh\n');
      await answer;
    },
    loopStart() {
      child.stdin.write('loop\n');
    },
    async loopStop() {
      const answer = next();
      child.stdin.write('loop?\n');
      const { p99Ms = 0, maxMs = 0, meanMs = 0 } = await answer;
      return { p99Ms, maxMs, meanMs };
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.stdin.end('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
