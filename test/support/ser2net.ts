/**
 * The real ser2net (Debian's ser2net 4, installed by .ci/run when absent) started by a test in
 * the foreground on a free loopback port, in front of a tty (the mock terminal's pty). Its YAML
 * config is the one docs/cli.md shows, read from the doc, so the doc cannot drift from what works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './cli-process.js';
import { deadline } from './wait.js';

const CANDIDATES = ['/usr/sbin/ser2net', '/usr/bin/ser2net', '/usr/local/sbin/ser2net'];
/** The marker above the config block in docs/cli.md. */
export const DOC_MARKER = '<!-- ser2net config: test/e2e/ser2net.test.ts runs this block -->';
const START_TIMEOUT_MS = 15_000;

/** The ser2net executable, or a failure that says how to get it (never a silent skip). */
export function requireSer2net(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error('ser2net is not installed: apt-get install -y ser2net (.ci/run does it)');
  return found;
}

/** The YAML block of docs/cli.md, as a technician copies it to /etc/ser2net.yaml. */
export function docConfig(): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'cli.md'), 'utf8');
  const at = doc.indexOf(DOC_MARKER);
  const block = /```yaml\n([\s\S]*?)```/.exec(doc.slice(at));
  if (at < 0 || !block) throw new Error(`docs/cli.md has no yaml block after ${DOC_MARKER}`);
  return block[1]!;
}

/**
 * The doc's config for this test: its TCP port 4001 becomes 127.0.0.1:`port`, /dev/ttyUSB0
 * becomes `device`; `plainTelnet` also serves plain Telnet (no RFC 2217) on `plainTelnet`.
 */
export function testConfig(device: string, port: number, plainTelnet?: number): string {
  const config = docConfig();
  if (!config.includes('tcp,4001') || !config.includes('/dev/ttyUSB0'))
    throw new Error(`the docs/cli.md ser2net config no longer has tcp,4001 and /dev/ttyUSB0:\n${config}`);
  const rfc2217 = config.replaceAll('tcp,4001', `tcp,127.0.0.1,${port}`).replaceAll('/dev/ttyUSB0', device);
  if (plainTelnet === undefined) return rfc2217;
  const telnet = rfc2217
    .replace(/connection: &(\S+)/, 'connection: &$1-telnet')
    .replace('telnet(rfc2217),', 'telnet,')
    .replace(`127.0.0.1,${port}`, `127.0.0.1,${plainTelnet}`);
  return `${rfc2217}\n${telnet}`;
}

/** A port that was free a moment ago (ser2net takes its port from its config, not port 0). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** `ser2net -n -d -u -c FILE` with the config written to `dir`, until stop(). */
export class Ser2net {
  private child: ChildProcess | undefined;
  private output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly config: string,
    private readonly ports: number[],
  ) {}

  /** Starts ser2net and resolves once every port of its config listens. */
  async start(): Promise<this> {
    const file = join(this.dir, 'ser2net.yaml');
    writeFileSync(file, this.config);
    // -n -d: foreground, log to stdout; -u: no UUCP lock files in /var/lock from a test;
    // -P: its pid file in the test's directory, not /run.
    const child = spawn(
      requireSer2net(),
      ['-n', '-d', '-u', '-P', join(this.dir, 'ser2net.pid'), '-c', file],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    await deadline(
      (async () => {
        while (!this.ports.every(listening)) {
          if (gone) throw new Error(`ser2net exited at start:\n${this.output}\nconfig:\n${this.config}`);
          // Nothing announces "listening": look at the kernel's socket table again shortly.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      `ser2net to listen on ${this.ports.join(', ')}`,
      START_TIMEOUT_MS,
    );
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get log(): string {
    return this.output;
  }

  /** Stops this ser2net (by its pid) and waits until it has gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await deadline(this.exited, 'ser2net to exit');
  }
}

/** The port is in LISTEN state on 127.0.0.1 or any address (Linux /proc/net/tcp). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A') return true;
    }
  }
  return false;
}
