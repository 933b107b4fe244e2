/**
 * Secrets come from standard input, a file, an environment variable or a hidden prompt, never
 * from argv (where `ps` and shell history would keep them). Several secrets on stdin are read one
 * line each, in the order the command documents.
 */
import { readFile, stat } from 'node:fs/promises';
import { PosbridgeError } from '../host/errors.js';
import { Secret } from '../host/secret.js';
import type { CliIo } from './io.js';

export interface SecretSource {
  /** Read it from the next line of standard input. */
  stdin?: boolean;
  /** Read the first line of this file. */
  file?: string;
  /** Environment variable to read when neither flag is given. */
  env: string;
  /** What it is, for errors: "admin password". */
  label: string;
  /**
   * The prompt's question when it must say which one (the new admin password a provision sets
   * vs the current one diag needs): default the label.
   */
  prompt?: string;
  /** Flags that give it, for the error when none did. */
  flags: string;
  /** A new password: a prompt asks twice. */
  confirm?: boolean;
}

export class SecretReader {
  private stdinLines: string[] | undefined;

  constructor(private readonly io: CliIo) {}

  /** The secret, or undefined when no source gives it and `required` is false. */
  async read(source: SecretSource, required = true): Promise<Secret | undefined> {
    if (source.stdin) return this.fromStdin(source);
    if (source.file) return this.fromFile(source.file, source.label);
    const fromEnv = this.io.env[source.env];
    if (fromEnv !== undefined && fromEnv !== '') return new Secret(fromEnv);
    if (this.io.stdin.isTTY && this.io.stdin.setRawMode) return this.prompt(source);
    if (!required) return undefined;
    throw new PosbridgeError('USAGE', `no ${source.label} given`, {
      hint: `use ${source.flags} or set ${source.env}; passwords are never taken from the command line`,
    });
  }

  private async fromStdin(source: SecretSource): Promise<Secret> {
    if (!this.stdinLines) {
      const chunks: Buffer[] = [];
      for await (const chunk of this.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
      this.stdinLines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    }
    const line = this.stdinLines.shift();
    if (line === undefined || line === '') {
      throw new PosbridgeError('USAGE', `standard input ended before the ${source.label}`, {
        hint: 'give one secret per line on standard input, in the order the command documents',
      });
    }
    return new Secret(line);
  }

  private async fromFile(path: string, label: string): Promise<Secret> {
    let text: string;
    try {
      const info = await stat(path);
      // A secret file others can read is a leak waiting to happen; say so, but use it.
      if ((info.mode & 0o077) !== 0)
        this.io.stderr.write(`warning: ${path} can be read by other users (chmod 600 it)\n`);
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new PosbridgeError(
        'USAGE',
        `cannot read the ${label} file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        {
          hint: 'check the path and its permissions',
        },
      );
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '')
      throw new PosbridgeError('USAGE', `the ${label} file ${path} is empty`, {
        hint: 'put the password on its first line',
      });
    return new Secret(line);
  }

  private async prompt(source: SecretSource): Promise<Secret> {
    const question = source.prompt ?? source.label;
    const first = await this.askHidden(`${question}: `);
    if (source.confirm) {
      const again = await this.askHidden(`${question} (again): `);
      if (again !== first)
        throw new PosbridgeError('USAGE', `the two ${source.label} entries differ`, {
          hint: 'run again and type the same password twice',
        });
    }
    if (first === '') throw new PosbridgeError('USAGE', `empty ${source.label}`);
    return new Secret(first);
  }

  /** Read a line from the terminal without echoing it. */
  private askHidden(question: string): Promise<string> {
    const { stdin, stderr } = this.io;
    // Raw mode (no echo, Ctrl-C as a character) before the question: whatever is typed as soon
    // as it shows must neither be echoed nor reach the line discipline's signals.
    stdin.setRawMode?.(true);
    stderr.write(question);
    return new Promise((resolve, reject) => {
      let answer = '';
      stdin.resume();
      const onData = (data: Buffer) => {
        for (const char of data.toString('utf8')) {
          if (char === '\r' || char === '\n') return done(undefined);
          if (char === '\u0003') return done(new PosbridgeError('USAGE', 'cancelled'));
          if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
          else answer += char;
        }
      };
      const done = (error: Error | undefined) => {
        stdin.removeListener('data', onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        stderr.write('\n');
        if (error) reject(error);
        else resolve(answer);
      };
      stdin.on('data', onData);
    });
  }
}
