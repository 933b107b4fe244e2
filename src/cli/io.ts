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

const COLOURS = { green: 32, yellow: 33, red: 31, dim: 2, bold: 1, cyan: 36 } as const;
export type Colour = keyof typeof COLOURS;

/** Colour only on a terminal, and never when NO_COLOR is set. */
export function painter(io: CliIo): (colour: Colour, text: string) => string {
  const enabled = io.stdout.isTTY === true && !io.env.NO_COLOR;
  return (colour, text) => (enabled ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text);
}
