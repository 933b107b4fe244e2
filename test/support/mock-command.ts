/** `posbridge mock ARGS` in-process through its commander registration, stopped by stop() instead of a signal. */
import { Command, CommanderError } from 'commander';
import { registerMockCommand } from '../../src/cli/commands/mock.js';

export interface MockCommandRun {
  /** The exit code, once the command ends (2 for an option commander refused). */
  code: Promise<number>;
  stdout(): string;
  stderr(): string;
  stop(signal?: string): void;
}

export function runMockCommand(args: string[]): MockCommandRun {
  let out = '';
  let err = '';
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const deps = {
    io: {
      stdout: {
        write: (t: string) => {
          out += t;
        },
      },
      stderr: {
        write: (t: string) => {
          err += t;
        },
      },
    },
    result: { exitCode: 0 },
    stopSignal: () => stopped,
  };
  const program = new Command('posbridge').exitOverride().configureOutput({
    writeOut: (t) => deps.io.stdout.write(t),
    writeErr: (t) => deps.io.stderr.write(t),
  });
  registerMockCommand(program, deps).exitOverride();
  const code = program.parseAsync(['mock', ...args], { from: 'user' }).then(
    () => deps.result.exitCode,
    (error) => {
      if (error instanceof CommanderError) return 2;
      throw error;
    },
  );
  return { code, stdout: () => out, stderr: () => err, stop: (signal = 'SIGTERM') => stop(signal) };
}
