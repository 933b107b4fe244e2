/**
 * The local API's test rig: a small in-memory PortManager (a stand-in for the discovery
 * helper's DaemonPortManager) that leases connections to mock:// terminals through the real
 * TerminalDriver and the mock's in-process serialport binding; a daemon on a socket in a scratch
 * directory serving the engine the composition root builds for it (buildRuntime, through
 * test/support/runtime.ts: a LocalEngine leasing the port manager's connections, audited in the
 * scratch directory); raw HTTP and SSE helpers to talk to it as curl would.
 *
 * Every clock is fixed (engine and terminals), so two worlds that do the same thing produce the
 * same reports: the in-process engine and the one behind the socket can be compared deep-equal
 * (but for the audit head, a hash of records written apart: `withoutAuditHead`).
 */

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { MockPorts } from '../../src/cli/mock-ports.js';
import type { Runtime, ServingRuntime } from '../../src/cli/runtime.js';
import { Daemon, type DaemonOptions } from '../../src/daemon/api/lifecycle.js';
import { SseParser } from '../../src/daemon/api/sse.js';
import { TerminalDriver } from '../../src/host/driver.js';
import type { Engine, TerminalConnection } from '../../src/host/engine.js';
import { PosbridgeError } from '../../src/host/errors.js';
import type { HubEvent, PortManager, TerminalInfo } from '../../src/host/hub.js';
import { createPortRegistry } from '../../src/host/ports/index.js';
import type { MockTerminalOptions } from '../../src/mock-device/index.js';
import { inProcessRuntime, servingRuntime } from '../support/runtime.js';

export const NOW = new Date('2026-03-02T09:00:00.000Z');
export const fixedNow = (): Date => new Date(NOW);

import { ADMIN_PW, MERCHANT, TERMINAL } from '../support/constants.js';

export { ADMIN_PW, MERCHANT, TERMINAL };

/** Fast, deterministic terminals: unpaced, instant DIAG, the fixed clock. */
export const MOCK_DEFAULTS: MockTerminalOptions = {
  baud: 0,
  diagTimeScale: 0,
  rebootMs: 5,
  clock: { now: () => NOW.getTime() },
};

/** The same bytes on every run: generated passwords are equal in both worlds. */
export function seededBytes(): (n: number) => Uint8Array {
  let state = 7;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state >>> 16;
    });
}

/** A logger that keeps every line (to check that no secret reaches a log). */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

import { silentLogger as silent } from '../support/constants.js';

export { silent };

interface Entry {
  info: TerminalInfo;
  driver: TerminalDriver | undefined;
  tail: Promise<void>;
}

/**
 * What the discovery helper's port manager does, in memory: one open driver per port, lent to
 * one operation at a time (others wait in line), opened on demand; `plug`/`unplug` play
 * hot-plug and publish terminal-added/removed.
 */
export class TestPortManager implements PortManager {
  readonly published: HubEvent[] = [];
  closed = false;
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly open: (port: string) => Promise<TerminalDriver>) {}

  list(): TerminalInfo[] {
    return [...this.entries.values()].map((e) => structuredClone(e.info));
  }

  subscribe(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: HubEvent): void {
    this.published.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** A terminal appears: identified (HELLO, STATUS) and announced. */
  async plug(port: string): Promise<TerminalInfo> {
    const lease = await this.lease(port);
    try {
      const hello = await lease.hello();
      const status = await lease.status();
      Object.assign(this.entry(port).info, { hello, status });
    } finally {
      await lease.close();
    }
    const info = structuredClone(this.entry(port).info);
    this.publish({ type: 'terminal-added', terminal: info });
    return info;
  }

  /** A terminal goes away: its connection closes, it is marked gone and announced. */
  async unplug(port: string): Promise<void> {
    const entry = this.entry(port);
    await entry.driver?.close();
    entry.driver = undefined;
    this.setState(entry, 'gone');
    this.publish({ type: 'terminal-removed', terminal: structuredClone(entry.info) });
  }

  async lease(port: string): Promise<TerminalConnection> {
    if (this.closed) throw new PosbridgeError('CLOSED', 'the port manager is closed');
    const entry = this.entry(port);
    const previous = entry.tail;
    let release!: () => void;
    entry.tail = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      if (this.closed) throw new PosbridgeError('CLOSED', 'the port manager is closed');
      if (!entry.driver) {
        const driver = await this.open(port);
        entry.driver = driver;
        driver.onClose(() => {
          if (entry.driver === driver) entry.driver = undefined;
        });
      }
    } catch (error) {
      release();
      throw error;
    }
    const driver = entry.driver;
    this.setState(entry, 'busy');
    let released = false;
    const close = async () => {
      if (released) return;
      released = true;
      if (entry.info.state === 'busy') this.setState(entry, 'present');
      release();
    };
    return new Proxy(driver, {
      get: (target, property) => {
        if (property === 'close') return close;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as TerminalConnection;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) {
      await entry.driver?.close().catch(() => undefined);
      entry.driver = undefined;
    }
  }

  private entry(port: string): Entry {
    let entry = this.entries.get(port);
    if (!entry) {
      entry = {
        info: { port, state: 'identifying', since: NOW.toISOString() },
        driver: undefined,
        tail: Promise.resolve(),
      };
      this.entries.set(port, entry);
    }
    return entry;
  }

  private setState(entry: Entry, state: TerminalInfo['state']): void {
    entry.info.state = state;
    entry.info.since = NOW.toISOString();
  }
}

/** A set of mock:// terminals and what opens them (the mock's binding, the real driver). */
export class MockWorld {
  readonly mockPorts: MockPorts;
  private readonly registry = createPortRegistry();

  constructor(defaults: MockTerminalOptions = {}) {
    this.mockPorts = new MockPorts({ defaults: { ...MOCK_DEFAULTS, ...defaults } });
    this.registry.register('mock', this.mockPorts.factory());
  }

  readonly open = (port: string): Promise<TerminalDriver> =>
    TerminalDriver.open(port, { registry: this.registry, logger: silent, timeoutMs: 2000 });

  /** The in-process runtime over this world, as the CLI builds it without a daemon (audited in `audit`). */
  runtime(audit: string): Promise<Runtime> {
    return inProcessRuntime({ mockPorts: this.mockPorts, audit, now: fixedNow, randomBytes: seededBytes() });
  }

  /** The daemon's runtime over `portManager` (default: a new one over this world), audited in `audit`. */
  serve(audit: string, portManager: PortManager = this.portManager()): Promise<ServingRuntime> {
    return servingRuntime({
      mockPorts: this.mockPorts,
      audit,
      portManager,
      now: fixedNow,
      randomBytes: seededBytes(),
    });
  }

  portManager(): TestPortManager {
    return new TestPortManager(this.open);
  }

  close(): Promise<void> {
    return this.mockPorts.close();
  }
}

export interface RunningDaemon {
  daemon: Daemon;
  socket: string;
  dir: string;
  world: MockWorld;
  portManager: TestPortManager;
  engine: Engine;
  stop(): Promise<void>;
}

/** A scratch directory with a short path (sun_path is ~104 bytes). */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'pb-api-'));
}

/** A daemon over a fresh mock world, on a socket in a scratch directory. */
export async function startDaemon(
  options: Partial<Omit<DaemonOptions, 'socket' | 'uid'>> & {
    mock?: MockTerminalOptions;
    wrap?: (engine: Engine) => Engine;
    dir?: string;
  } = {},
): Promise<RunningDaemon> {
  const dir = options.dir ?? scratchDir();
  const socket = join(dir, 'run', 'daemon.sock');
  const world = new MockWorld(options.mock);
  const portManager = world.portManager();
  let engine!: Engine;
  const daemon = await Daemon.start({
    logger: silent,
    createRuntime: async () => {
      const runtime = await world.serve(join(dir, 'daemon-audit.sqlite3'), portManager);
      engine = options.wrap ? options.wrap(runtime.engine) : runtime.engine;
      return { ...runtime, engine };
    },
    ...options,
    socket: { path: socket, source: 'flag' },
    uid: process.getuid!(),
  });
  return {
    daemon,
    socket,
    dir,
    world,
    portManager,
    engine,
    stop: async () => {
      await daemon.stop({ reason: 'test' });
      await world.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A report or error document without its audit head: two trails written apart hash apart. */
export function withoutAuditHead<T>(value: T): T {
  if (typeof value !== 'object' || value === null || !('auditHead' in value)) return value;
  const { auditHead: _head, ...rest } = value as T & { auditHead: unknown };
  return rest as T;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document the tests read field by field
  json: any;
}

/** One HTTP request over the socket, as curl --unix-socket would send it. */
export function call(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({
      socketPath: socket,
      method,
      path,
      agent: false,
      headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.end(payload);
  });
}

export interface StreamedEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document the tests read field by field
  data: any;
  id?: string;
}

/**
 * An event stream (GET /v1/events, or a POST with Accept: text/event-stream): events as they
 * come, the raw text (comments included), and a way to wait for one.
 */
export class EventStream extends EventEmitter {
  readonly events: StreamedEvent[] = [];
  /** Passwords handed over by `generated` events, by operator id (with `acknowledge`). */
  readonly generated = new Map<string, string>();
  raw = '';
  status = 0;
  ended = false;
  private req: ReturnType<typeof request> | undefined;

  /**
   * Opens the stream. `acknowledge`: answer every `generated` event with an ok, as the CLI does
   * once it has written the password down (the passwords are kept in `generated`).
   */
  static open(
    socket: string,
    method: string,
    path: string,
    body?: unknown,
    options: { acknowledge?: boolean; headers?: Record<string, string> } = {},
  ): Promise<EventStream> {
    const stream = new EventStream();
    if (options.acknowledge) {
      let operation = '';
      stream.on('event', (e: StreamedEvent) => {
        if (e.event === 'operation') operation = e.data.id;
        if (e.event !== 'generated') return;
        stream.generated.set(e.data.id, e.data.password);
        void call(socket, 'POST', `/v1/operations/${operation}/generated`, { call: e.data.call, ok: true });
      });
    }
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        socketPath: socket,
        method,
        path,
        agent: false,
        headers: {
          accept: 'text/event-stream',
          ...(payload && { 'content-type': 'application/json' }),
          ...options.headers,
        },
      });
      stream.req = req;
      req.on('error', reject);
      req.on('response', (res) => {
        stream.status = res.statusCode ?? 0;
        const parser = new SseParser(({ event, data, id }) => {
          const parsed = { event, data: JSON.parse(data), ...(id !== undefined && { id }) };
          stream.events.push(parsed);
          stream.emit('event', parsed);
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          stream.raw += chunk;
          parser.push(chunk);
          stream.emit('raw');
        });
        res.on('close', () => {
          stream.ended = true;
          stream.emit('end');
        });
        resolve(stream);
      });
      req.end(payload);
    });
  }

  /** Resolves with the first event (from the start) that matches. */
  waitFor(match: (e: StreamedEvent) => boolean, what: string, ms = 5000): Promise<StreamedEvent> {
    return new Promise((resolve, reject) => {
      const found = this.events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(
          new Error(`no event ${what} within ${ms} ms (got ${this.events.map((e) => e.event).join(', ')})`),
        );
      }, ms);
      const onEvent = (e: StreamedEvent) => {
        if (!match(e)) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve(e);
      };
      this.on('event', onEvent);
    });
  }

  waitForRaw(match: RegExp, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (match.test(this.raw)) return resolve();
      const timer = setTimeout(() => reject(new Error(`no ${match} in the stream within ${ms} ms`)), ms);
      const onRaw = () => {
        if (!match.test(this.raw)) return;
        clearTimeout(timer);
        this.off('raw', onRaw);
        resolve();
      };
      this.on('raw', onRaw);
    });
  }

  waitForEnd(ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ended) return resolve();
      const timer = setTimeout(() => reject(new Error(`the stream did not end within ${ms} ms`)), ms);
      this.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.req?.destroy();
  }
}
