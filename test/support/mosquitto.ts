/**
 * A real Mosquitto (Debian's, /usr/sbin/mosquitto) for the fleet tests: a generated config in a
 * temporary directory, loopback listeners on free ports, a password file made with
 * mosquitto_passwd, and, when asked, TLS listeners with a CA and certificates made with openssl
 * at test time (one that takes a password, one that takes a client certificate as the identity).
 *
 * Mosquitto cannot listen on port 0, so a free port is found by binding port 0 and letting it go;
 * if another process takes it meanwhile, mosquitto says so and the next port is tried. Waits are
 * on mosquitto's own "running" line and its exit, each bounded by a safety timeout; `stop()` and
 * `start()` again keep the same ports and config (persistence on: sessions and retained messages
 * survive, as on a depot's broker that restarts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { deadline } from './wait.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/** True when the broker and its tools are installed (.ci/run installs them). */
export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO) && existsSync('/usr/bin/mosquitto_passwd') && existsSync('/usr/bin/openssl');
}

export interface BrokerOptions {
  /** Users of the password file (name -> password). */
  users: Record<string, string>;
  /** Add TLS listeners (a password one, a client-certificate one) with a test CA. */
  tls?: boolean;
}

export interface ClientCertificate {
  cert: string;
  key: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private log = '';
  readonly ports: { plain: number; tls?: number; certs?: number } = { plain: 0 };

  private constructor(
    readonly dir: string,
    private readonly options: BrokerOptions,
  ) {}

  static async start(dir: string, options: BrokerOptions): Promise<Mosquitto> {
    mkdirSync(dir, { recursive: true });
    const broker = new Mosquitto(dir, options);
    broker.writePasswords();
    if (options.tls) broker.makeCertificates();
    for (let attempt = 1; ; attempt++) {
      broker.ports.plain = await freePort();
      if (options.tls) {
        broker.ports.tls = await freePort();
        broker.ports.certs = await freePort();
      }
      broker.writeConfig();
      try {
        await broker.start();
        return broker;
      } catch (error) {
        if (attempt >= 5 || !/Address already in use/.test(broker.log)) throw error;
      }
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.ports.plain}`;
  }

  /** TLS, user and password. */
  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.ports.tls}`;
  }

  /** TLS, a client certificate is the identity (its CN the user name). */
  get certUrl(): string {
    return `mqtts://127.0.0.1:${this.ports.certs}`;
  }

  get caFile(): string {
    return join(this.dir, 'ca.crt');
  }

  /** A client certificate signed by the test CA, with `name` as its CN. */
  clientCertificate(name: string): ClientCertificate {
    const key = join(this.dir, `${name}.key`);
    const cert = join(this.dir, `${name}.crt`);
    openssl(this.dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ]);
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '2',
    ]);
    return { cert, key };
  }

  /** What mosquitto logged so far. */
  get output(): string {
    return this.log;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it (again: same ports, same config). */
  async start(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.log += chunk.toString('utf8');
        if (/mosquitto version \S+ running/.test(this.log.slice(this.log.lastIndexOf('starting')))) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      exited.then(() => reject(new Error(`mosquitto exited before it was running:\n${this.log}`)));
    });
    await deadline(ready, 'mosquitto to run', 10_000);
  }

  /** SIGTERM, and wait for the exit (it saves its persistence file first). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await deadline(exited, 'mosquitto to stop', 10_000);
  }

  async dispose(): Promise<void> {
    if (this.running) {
      const child = this.child!;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
  }

  private writePasswords(): void {
    // Written in clear, then hashed in place by mosquitto_passwd -U: no password in any argv.
    const file = join(this.dir, 'passwords');
    writeFileSync(
      file,
      Object.entries(this.options.users)
        .map(([u, p]) => `${u}:${p}\n`)
        .join(''),
      { mode: 0o600 },
    );
    execFileSync('mosquitto_passwd', ['-U', file], { stdio: 'pipe' });
  }

  private makeCertificates(): void {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(this.dir, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=posbridge test CA',
      '-days',
      '2',
    ]);
    openssl(this.dir, [
      'req',
      ...ec,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(join(this.dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ]);
  }

  private writeConfig(): void {
    const lines = [
      // Run as us: as root, mosquitto would switch to its own user, who cannot write here.
      `user ${userInfo().username}`,
      'per_listener_settings true',
      'persistence true',
      `persistence_location ${this.dir}/`,
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_timestamp false',
      `listener ${this.ports.plain} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(this.dir, 'passwords')}`,
    ];
    if (this.options.tls) {
      lines.push(
        `listener ${this.ports.tls} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${join(this.dir, 'passwords')}`,
        `cafile ${this.caFile}`,
        `certfile ${join(this.dir, 'server.crt')}`,
        `keyfile ${join(this.dir, 'server.key')}`,
        `listener ${this.ports.certs} 127.0.0.1`,
        'allow_anonymous false',
        `cafile ${this.caFile}`,
        `certfile ${join(this.dir, 'server.crt')}`,
        `keyfile ${join(this.dir, 'server.key')}`,
        'require_certificate true',
        'use_identity_as_username true',
      );
    }
    writeFileSync(join(this.dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
  }
}
