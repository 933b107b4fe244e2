/**
 * A pseudo-terminal pair made by socat (Debian's socat, installed by .ci/run when absent), the
 * way a bench makes one for someone else's program: `socat -d -d pty,raw,echo=0,link=A
 * pty,raw,echo=0,link=B`. Killing it hangs up both ends and removes both links.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { deadline } from './wait.js';

const CANDIDATES = ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'];

export function requireSocat(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error('socat is not installed: apt-get install -y socat (.ci/run does it)');
  return found;
}

export class SocatPair {
  private child: ChildProcess | undefined;
  private output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly a: string,
    readonly b: string,
  ) {}

  /** Starts socat and resolves once both links exist and it is moving data. */
  async start(): Promise<this> {
    const child = spawn(
      requireSocat(),
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    this.output = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    await deadline(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (/starting data transfer loop/.test(this.output)) resolve();
          else if (gone) reject(new Error(`socat exited at start:\n${this.output}`));
        };
        child.stderr!.on('data', (chunk: Buffer) => {
          this.output += chunk.toString('utf8');
          check();
        });
        void this.exited.then(check);
      }),
      'socat to make its pty pair',
    );
    return this;
  }

  get log(): string {
    return this.output;
  }

  /** Stops this socat (by its pid): both ends hang up and both links go. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await deadline(this.exited, 'socat to exit');
  }
}
