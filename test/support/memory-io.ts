/** Standard streams in memory for runCli in-process: what a person would see, kept as text. */
import { Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';

export type MemoryIo = CliIo & { out: string[]; err: string[] };

/**
 * stdout and stderr into `out` and `err`, none of them a terminal; stdin a pipe holding `stdin`
 * (none: it ends at once). `env` is the whole environment the CLI sees.
 */
export function memoryIo(env: NodeJS.ProcessEnv, stdin?: string, cwd?: string): MemoryIo {
  const out: string[] = [];
  const err: string[] = [];
  const input = Readable.from(stdin ? [Buffer.from(stdin)] : []) as Readable & { isTTY?: boolean };
  input.isTTY = false;
  return {
    out,
    err,
    stdout: { write: (text: string) => void out.push(text), isTTY: false },
    stderr: { write: (text: string) => void err.push(text), isTTY: false },
    stdin: input,
    env,
    ...(cwd === undefined ? {} : { cwd }),
  };
}
