import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LinkHandler } from '../link.js';
import { TransportError } from './errors.js';
import { createLinkController, type LinkController } from './link-core.js';
import { PTY_BRIDGE_SCRIPT } from './pty-bridge-script.js';
import { FrameReader, frameToHelper } from './pty-frames.js';
import { describePtyHolders, livePtyBehind } from './pty-holders.js';

/**
 * Terminal→host bytes that may wait in the pipe to the helper (Node's side; the helper holds
 * 64 KiB more, the pty itself about 64 KiB). Beyond it bytes are dropped, as a UART drops what
 * the host does not read (an overrun): it only fills when the host stops reading.
 */
export const MAX_PIPE_BACKLOG = 1024 * 1024;

export interface PtyOptions {
  /** Where hosts open the port: a symlink to the current /dev/pts/N (e.g. /tmp/pos0). */
  linkPath: string;
  /** The python interpreter to run the helper with; default `python3`. */
  python?: string;
  /** Where to look for the processes holding a pty the link already leads to; default `/proc`. */
  procRoot?: string;
}

export interface PtyTransport {
  /** The absolute link path hosts open. */
  readonly path: string;
  /** The /dev/pts/N the link points to now (it changes when the terminal pulls the cable). */
  readonly slavePath: string;
  /** Resolves when the transport has stopped: undefined after close(), an error if the helper died. */
  readonly closed: Promise<TransportError | undefined>;
  /** Hangs up the host, stops the helper and removes the link. Idempotent. */
  close(): Promise<void>;
}

/**
 * A pseudo-terminal for hosts that open a real serial device (picocom, screen, the daemon with the
 * real serialport binding). Each host session, from open to last close of the slave, is one
 * DeviceLink; the terminal's link.close() hangs the host up (its reads end, like a pulled USB
 * cable) and a fresh pty appears at the same link path for the next open.
 *
 * A hung-up tty reads 0 bytes: the stock serialport binding then retries forever instead of
 * closing (bindings-cpp #162, docs/architecture.md), so a host must treat a 0-byte read as a
 * disconnect to notice the hang-up (test/support/hangup-safe-binding.ts does).
 */
export async function openPty(options: PtyOptions, onLink: LinkHandler): Promise<PtyTransport> {
  const linkPath = path.resolve(options.linkPath);
  assertReplaceable(linkPath);
  // A link to a pty someone still serves is not stale: taking it over would steal its hosts.
  const live = await livePtyBehind(linkPath, { procRoot: options.procRoot });
  if (live) {
    throw new TransportError(
      'LINK_IN_USE',
      `${linkPath} leads to ${live.target}, a pty in use: ${describePtyHolders(live.holders)}. Stop that program first, or give --pty another path`,
    );
  }

  const python = options.python ?? 'python3';
  // -I -S: stdlib only, immune to PYTHONPATH and user site-packages, and a faster start.
  const child = spawn(python, ['-I', '-S', '-c', PTY_BRIDGE_SCRIPT, linkPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const session = new PtySession(child, linkPath, onLink);
  await session.started(python);
  return session.transport();
}

function assertReplaceable(linkPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(linkPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSymbolicLink()) {
    throw new TransportError(
      'PATH_EXISTS',
      `Cannot create the pty link at ${linkPath}: a file that is not a symlink is already there`,
    );
  }
}

/**
 * Where the link is made before it is renamed onto `linkPath`: the same directory, so the rename is
 * atomic, under a hidden name. The daemon watches that directory and reads a pattern such as
 * `pos*` like a shell, where a hidden name matches only a pattern that starts with a dot
 * (docs/daemon.md, "The config file"): `pos0.PID.tmp` matched `pos*`, and a pass landing between the
 * two steps announced it as a port. Fixed here rather than in discovery, which then needs no
 * knowledge of this mock. Left: a hidden link (`.pos0`) watched by a pattern for every hidden
 * name (`.*`) still sees the temporary name (docs/mock.md, `--pty`).
 */
function temporaryLinkPath(linkPath: string): string {
  return path.join(path.dirname(linkPath), `.${path.basename(linkPath)}.${process.pid}.tmp`);
}

/** Atomically points `linkPath` at `target` (a stale link from an earlier run is replaced). */
function pointLink(linkPath: string, target: string): void {
  assertReplaceable(linkPath);
  const temp = temporaryLinkPath(linkPath);
  fs.rmSync(temp, { force: true });
  fs.symlinkSync(target, temp);
  fs.renameSync(temp, linkPath);
}

function removeLinkIfOurs(linkPath: string, target: string): void {
  try {
    if (fs.readlinkSync(linkPath) === target) fs.unlinkSync(linkPath);
  } catch {
    // Already gone, or replaced by someone else: not ours to remove.
  }
}

class PtySession {
  private slavePath = '';
  private current: { gen: number; controller: LinkController } | undefined;
  /** The last link's end, awaited by close() so that its onClose has run when close() resolves. */
  private lastLinkClosed: Promise<void> = Promise.resolve();
  private stopping = false;
  private exited = false;
  private failure: TransportError | undefined;
  private stderrTail = '';
  private readonly closedPromise: Promise<TransportError | undefined>;
  private resolveClosed!: (error: TransportError | undefined) => void;
  private settleStart: ((error?: TransportError) => void) | undefined;
  private closing: Promise<void> | undefined;
  // Node exiting without close(): remove the link (the helper also exits, its stdin being closed).
  private readonly onProcessExit = (): void => {
    removeLinkIfOurs(this.linkPath, this.slavePath);
    this.child.kill();
  };

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly linkPath: string,
    private readonly onLink: LinkHandler,
  ) {
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const frames = new FrameReader();
    child.stdout.on('data', (chunk: Buffer) =>
      frames.push(chunk, (kind, payload) => this.onFrame(kind, payload)),
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-2000);
    });
    // EPIPE when the helper is gone: its 'exit' reports that.
    child.stdin.on('error', () => {});
    child.on('error', (error) => this.onChildGone(error));
    // 'close', not 'exit': the frames the helper wrote before it ended are all read by then.
    child.on('close', () => this.onChildGone());
    process.once('exit', this.onProcessExit);
  }

  /** Resolves once the link exists; rejects if the helper or the link could not be set up. */
  started(python: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settleStart = (error) => {
        this.settleStart = undefined;
        if (!error) return resolve();
        if (error.code !== 'PTY_FAILED') return reject(error);
        // The helper died before it made a pty: most likely no usable python3 here.
        const message = `Cannot create a pseudo-terminal with ${python}: ${error.message}`;
        const hint = ' (the pty transport needs python3 with its pty and termios modules)';
        reject(new TransportError('PTY_UNAVAILABLE', message + hint, { cause: error }));
      };
    });
  }

  transport(): PtyTransport {
    const slavePath = (): string => this.slavePath;
    return {
      path: this.linkPath,
      get slavePath() {
        return slavePath();
      },
      closed: this.closedPromise,
      close: () => this.close(),
    };
  }

  private onFrame(kind: string, payload: Buffer): void {
    switch (kind) {
      case 'P':
        this.onNewSlave(payload.toString('utf8'));
        return;
      case 'O':
        this.onHostOpened(payload.readUInt32BE(0));
        return;
      case 'D':
        this.current?.controller.deliver(payload);
        return;
      case 'C':
        if (this.current?.gen === payload.readUInt32BE(0)) this.endCurrent();
        return;
      default:
        this.fail(
          new TransportError('PTY_FAILED', `The pty helper sent an unknown frame ${JSON.stringify(kind)}`),
        );
    }
  }

  private onNewSlave(slavePath: string): void {
    this.slavePath = slavePath;
    if (this.stopping) return;
    try {
      pointLink(this.linkPath, slavePath);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.fail(
        error instanceof TransportError
          ? error
          : new TransportError('LINK_FAILED', `Cannot link ${this.linkPath} to ${slavePath}: ${reason}`, {
              cause: error,
            }),
      );
      return;
    }
    this.settleStart?.();
  }

  private onHostOpened(gen: number): void {
    if (this.stopping) return;
    const controller = createLinkController(`pty ${this.linkPath}`, {
      write: (bytes) => {
        // Overrun rather than unbounded growth when the host stops reading (MAX_PIPE_BACKLOG).
        if (this.child.stdin.writableLength + bytes.length > MAX_PIPE_BACKLOG) return;
        this.child.stdin.write(frameToHelper('D', gen, bytes));
      },
      hangup: () => {
        this.child.stdin.write(frameToHelper('H', gen));
      },
    });
    this.current = { gen, controller };
    this.lastLinkClosed = controller.closed;
    this.onLink(controller.link);
  }

  private endCurrent(): void {
    const current = this.current;
    this.current = undefined;
    current?.controller.end();
  }

  /** A fault after which the transport cannot go on: stop, and report it through `closed`. */
  private fail(error: TransportError): void {
    this.failure ??= error;
    void this.close();
  }

  private onChildGone(spawnError?: Error): void {
    if (this.exited) return;
    this.exited = true;
    this.endCurrent();
    removeLinkIfOurs(this.linkPath, this.slavePath);
    process.off('exit', this.onProcessExit);
    if (!this.stopping) {
      const detail = spawnError?.message ?? (this.stderrTail.trim().split('\n').at(-1) || 'it exited');
      this.failure ??= new TransportError('PTY_FAILED', `The pty helper stopped: ${detail}`, {
        cause: spawnError,
      });
    }
    this.settleStart?.(
      this.failure ?? new TransportError('PTY_FAILED', 'The pty helper stopped before it started'),
    );
    this.resolveClosed(this.failure);
  }

  private close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      removeLinkIfOurs(this.linkPath, this.slavePath);
      if (!this.exited) {
        // Killing the helper closes the master: a host with the slave open sees its line die.
        this.child.stdin.end();
        this.child.kill('SIGTERM');
        await this.closedPromise;
      }
      await this.lastLinkClosed;
    })();
    return this.closing;
  }
}
