/**
 * The built posbridge executable (dist/cli/main.js) as a child process, the way a technician or
 * a CI job runs it. Waits are on output and exit events, each bounded by a safety timeout that
 * turns a hang into a failure naming what was awaited; nothing sleeps for a fixed time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './cli-inproc.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** A safety net, generous: a loaded machine (2 CPUs, other suites running) starts node slowly. */
export const PROCESS_TIMEOUT_MS = 60_000;

/** Throws a clear message when the CLI has not been built (`npm test` builds it first). */
export function requireBuiltCli(): string {
  if (!existsSync(CLI_MAIN)) {
    throw new Error(
      `${CLI_MAIN} is missing: build the CLI first (npm run build; npm test does it before vitest)`,
    );
  }
  return CLI_MAIN;
}

export interface SpawnOptions {
  cwd: string;
  /** Default: `cleanEnv(cwd)` (no caller secrets; audit trail and history under cwd). */
  env?: NodeJS.ProcessEnv;
  /** Written to standard input, which is then closed. Default: keep stdin open (see `stdin`). */
  input?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `node dist/cli/main.js ...` with its output collected as it comes. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  private out = '';
  private err = '';
  private readonly waiters = new Set<() => void>();
  private done = false;

  constructor(
    readonly args: string[],
    options: SpawnOptions,
  ) {
    this.child = spawn(process.execPath, [requireBuiltCli(), ...args], {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(options.cwd),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.out += chunk.toString('utf8');
      this.wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.err += chunk.toString('utf8');
      this.wake();
    });
    this.child.stdin.on('error', () => undefined); // a child that exits early closes its end
    this.exited = new Promise<Exit>((resolveExit, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.done = true;
        this.wake();
        resolveExit({ code, signal });
      });
    });
    if (options.input !== undefined) this.child.stdin.end(options.input);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return !this.done;
  }

  /** Waits until stdout matches `pattern`; fails if the process exits first or time runs out. */
  async waitForStdout(pattern: RegExp, what: string, ms = PROCESS_TIMEOUT_MS): Promise<RegExpExecArray> {
    return this.waitFor(() => pattern.exec(this.out), what, ms);
  }

  /** Waits until stderr (the mock's log, say) matches `pattern`; fails as waitForStdout does. */
  async waitForStderr(pattern: RegExp, what: string, ms = PROCESS_TIMEOUT_MS): Promise<RegExpExecArray> {
    return this.waitFor(() => pattern.exec(this.err), what, ms);
  }

  /** Waits for the exit; kills the process (SIGKILL) and fails if it does not come in time. */
  async waitForExit(
    what = `posbridge ${this.args.join(' ')} to exit`,
    ms = PROCESS_TIMEOUT_MS,
  ): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`Timed out after ${ms} ms waiting for ${what}\n${this.describe()}`));
      }, ms);
    });
    try {
      return await Promise.race([this.exited, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal to this process only (by its pid), if it still runs. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  describe(): string {
    return `--- stdout of posbridge ${this.args.join(' ')}\n${this.out}--- stderr\n${this.err}`;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private waitFor<T>(test: () => T | null | undefined, what: string, ms: number): Promise<T> {
    return new Promise<T>((resolveWait, reject) => {
      const check = () => {
        const value = test();
        if (value) return finish(() => resolveWait(value));
        if (this.done) finish(() => reject(new Error(`process exited before ${what}\n${this.describe()}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}\n${this.describe()}`))),
        ms,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `posbridge ...args` to completion (stdin: `input`, then closed). */
export async function runCliProcess(args: string[], options: SpawnOptions): Promise<ProcessRun> {
  const child = new CliProcess(args, { input: '', ...options });
  const { code, signal } = await child.waitForExit();
  return { code, signal, stdout: child.stdout, stderr: child.stderr };
}

/** Every child a test started, so afterEach can stop the ones a failed test left running. */
export class Children {
  private readonly all: CliProcess[] = [];

  spawn(args: string[], options: SpawnOptions): CliProcess {
    const child = new CliProcess(args, options);
    this.all.push(child);
    return child;
  }

  async stopAll(): Promise<void> {
    for (const child of this.all.splice(0)) {
      if (!child.running) continue;
      child.kill('SIGKILL');
      await child.exited.catch(() => undefined);
    }
  }
}
