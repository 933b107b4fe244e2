import { colourEnabled, type Paint, paintFor } from './colour.js';

/**
 * Where a command's output goes. Passed in, so tests run the whole CLI in-process and read what a
 * person would have seen; stdout carries results (one JSON document with --json), stderr logs.
 */
export interface CliIo {
  stdout: { write(text: string): void; isTTY?: boolean };
  stderr: { write(text: string): void; isTTY?: boolean };
  /** Standard input, for secrets (`--admin-password-stdin`) and the console. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** The directory relative paths are typed in (default: this process's working directory). */
  cwd?: string;
  /** `--no-color` was given (set by the program before the action runs). */
  noColor?: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Where the user's relative paths start. */
export function cwdOf(io: CliIo): string {
  return io.cwd ?? process.cwd();
}

export type { Colour } from './colour.js';

/**
 * Colour for what goes to `stream` (stdout by default): per stream, `--no-color`, FORCE_COLOR,
 * NO_COLOR, TERM=dumb (colour.ts).
 */
export function painter(io: CliIo, stream: 'stdout' | 'stderr' = 'stdout'): Paint {
  return paintFor(colourEnabled(io[stream], io.env, io.noColor === true));
}
