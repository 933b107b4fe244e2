/**
 * The posbridge CLI run in-process through `runCli` with the production composition
 * (`productionDeps`), as a person would run it, reading what they would have seen. One harness is
 * one process: its `mock://NAME` terminals live as long as it does, so a test provisions one and
 * then runs diag or operator against the same terminal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import type { MockTerminalOptions } from '../../src/mock-device/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

import { ADMIN_PASSWORD, MERCHANT, provisionArgv, TERMINAL } from './constants.js';

export { ADMIN_PASSWORD, MERCHANT, TERMINAL };

/**
 * The environment a run sees: no secret from the caller's environment, and everything posbridge
 * keeps (audit trail, console history) under `sandbox`, never in the user's home.
 */
export function cleanEnv(sandbox: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // FORCE_COLOR (a CI's, vitest's) would colour what the tests read as plain text.
    if (!key.startsWith('POSBRIDGE_') && key !== 'NO_COLOR' && key !== 'FORCE_COLOR') env[key] = value;
  }
  return {
    ...env,
    NO_COLOR: '1',
    POSBRIDGE_AUDIT: join(sandbox, 'audit.sqlite3'),
    XDG_DATA_HOME: join(sandbox, 'data'),
    // The daemon config (history --verify reads its audit.witness): never the user's own.
    XDG_CONFIG_HOME: join(sandbox, 'config'),
    XDG_STATE_HOME: join(sandbox, 'state'),
    ...extra,
  };
}

export class CliHarness {
  /** A scratch directory (credentials files, traces, XDG_STATE_HOME), removed by `dispose`. */
  readonly dir: string;
  private readonly io: CliIo & { stdout: { write(t: string): void }; stderr: { write(t: string): void } };
  private readonly deps: ReturnType<typeof productionDeps>;
  private out = '';
  private err = '';

  /** `tty`: stdout is a terminal and NO_COLOR is unset (colours and in-place redraws on). */
  constructor(mockDefaults: MockTerminalOptions = { diagTimeScale: 0 }, options: { tty?: boolean } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'posbridge-cli-'));
    const env = cleanEnv(this.dir);
    if (options.tty) delete env.NO_COLOR;
    this.io = {
      stdout: {
        write: (text: string) => {
          this.out += text;
        },
        ...(options.tty && { isTTY: true, columns: 200 }),
      },
      stderr: {
        write: (text: string) => {
          this.err += text;
        },
      },
      stdin: Readable.from([]),
      env,
    };
    this.deps = productionDeps(this.io, { defaults: mockDefaults });
  }

  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  /**
   * Runs `posbridge ...argv` with `stdin` as standard input: ended, a pipe, or with `tty` what a
   * person types at a terminal (isTTY set; no raw mode, so no hidden prompt).
   */
  async run(argv: string[], stdin = '', options: { tty?: boolean } = {}): Promise<CliRun> {
    this.out = '';
    this.err = '';
    const input = Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]);
    if (options.tty) Object.assign(input, { isTTY: true });
    this.io.stdin = input;
    const code = await runCli(argv, this.deps);
    return { code, stdout: this.out, stderr: this.err };
  }

  /** Provisions `port` from factory state with ADMIN_PASSWORD (generated operator passwords go to dir). */
  provision(port: string, extra: string[] = []): Promise<CliRun> {
    return this.run(
      [...provisionArgv(port, join(this.dir, 'operator-passwords.txt')), ...extra],
      `${ADMIN_PASSWORD}\n`,
    );
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A stack trace line, as Node prints them (`    at fn (file.js:1:2)`). */
export const STACK_LINE = /^\s+at .*(\.[cm]?[jt]s:\d+|<anonymous>|node:)/m;
