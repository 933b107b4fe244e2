/**
 * DaemonPortManager with mock terminals on in-memory cables, a stand-in discovery and manual
 * timers: identification, the not-TSP/1 case, FIFO leases, heartbeats (skipped while leased, a
 * silent link marked gone), unplug failing pending work with DISCONNECTED at once, on-demand
 * opens and shutdown. Nothing sleeps: time moves only when a test advances it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import type { DiscoveryChange, DiscoverySource, PortCandidate } from '../../src/daemon/discovery/index.js';
import { DaemonPortManager, type ManagedTerminal } from '../../src/daemon/port-manager/manager.js';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError, PosbridgeError } from '../../src/host/errors.js';
import { retransmitWaitMs } from '../../src/host/exchange.js';
import type { HubEvent } from '../../src/host/hub.js';
import { createMemoryLink, type MemoryPeer } from '../../src/host/ports/memory.js';
import { Secret } from '../../src/host/secret.js';
import { Session } from '../../src/host/session.js';
import { type MockBehaviour, MockTerminal } from '../../src/mock-device/index.js';
import { ManualTimers, settle } from '../support/manual-timers.js';
import { silentLogger } from './daemon-wire.helper.js';

class FakeDiscovery implements DiscoverySource {
  private readonly current = new Map<string, PortCandidate>();
  private readonly listeners = new Set<(change: DiscoveryChange) => void>();
  closed = false;

  constructor(initial: string[] = []) {
    for (const port of initial) this.current.set(port, { port, reason: 'named' });
  }
  async start(): Promise<void> {
    for (const candidate of this.current.values()) this.emit({ type: 'appeared', candidate });
  }
  candidates(): PortCandidate[] {
    return [...this.current.values()];
  }
  has(port: string): boolean {
    return this.current.has(port);
  }
  onChange(listener: (change: DiscoveryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  appear(port: string, extra: Partial<PortCandidate> = {}): void {
    const candidate: PortCandidate = { port, reason: 'allowed', ...extra };
    this.current.set(port, candidate);
    this.emit({ type: 'appeared', candidate });
  }
  disappear(port: string): void {
    const candidate = this.current.get(port);
    if (!candidate) return;
    this.current.delete(port);
    this.emit({ type: 'disappeared', candidate });
  }
  private emit(change: DiscoveryChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}

/** Counts requests per verb and bytes, and can mute the terminal (replies dropped). */
class Meter implements MockBehaviour {
  readonly name = 'test:meter';
  readonly verbs: string[] = [];
  bytesIn = 0;
  muted = false;
  onBytes(_c: unknown, direction: 'in' | 'out', count: number): undefined {
    if (direction === 'in') this.bytesIn += count;
    return undefined;
  }
  onRequest(info: { request: { verb: string } }): { dropReply: true } | undefined {
    this.verbs.push(info.request.verb);
    return this.muted ? { dropReply: true } : undefined;
  }
  count(verb: string): number {
    return this.verbs.filter((v) => v === verb).length;
  }
}

const REQUEST_MS = 100;

interface Rig {
  timers: ManualTimers;
  discovery: FakeDiscovery;
  manager: DaemonPortManager;
  events: HubEvent[];
  opens: string[];
  peers: Map<string, MemoryPeer>;
  terminal(port: string, sn?: string): { terminal: MockTerminal; meter: Meter };
  /** A device on `port` that answers every line with `reply` (a modem), or nothing. */
  foreign(port: string, reply?: string): { bytes: () => number; text: () => string };
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    const closing = rig.manager.close();
    await rig.timers.advance(60_000);
    await closing;
  }
});

function makeRig(
  options: { heartbeatMs?: number; initial?: string[]; namedIdleMs?: number; maxNamedPorts?: number } = {},
): Rig {
  const timers = new ManualTimers();
  const discovery = new FakeDiscovery(options.initial);
  const terminals = new Map<string, MockTerminal>();
  const foreign = new Map<string, { reply: string | undefined; bytes: number; text: string }>();
  const opens: string[] = [];
  const peers = new Map<string, MemoryPeer>();
  const open = async (port: string): Promise<ManagedTerminal> => {
    opens.push(port);
    const terminal = terminals.get(port);
    const device = foreign.get(port);
    if (!terminal && !device)
      throw new PosbridgeError('PORT_NOT_FOUND', `no such port: ${port}`, { details: { port } });
    const { transport, peer } = createMemoryLink(port);
    peers.set(port, peer);
    if (terminal) terminal.attach(peer);
    else {
      peer.onReceive((bytes) => {
        device!.bytes += bytes.length;
        device!.text += Buffer.from(bytes).toString('latin1');
        if (device!.reply !== undefined) peer.send(Buffer.from(`${device!.reply}\r\n`));
      });
    }
    const session = new Session(transport, {
      logger: silentLogger,
      timers,
      timeoutMs: REQUEST_MS,
      random: () => 0.5,
    });
    return new TerminalDriver(session, { timers });
  };
  const manager = new DaemonPortManager({
    open,
    discovery,
    logger: silentLogger,
    timers,
    clock: { now: () => timers.now },
    identifyMs: 1000,
    heartbeatMs: options.heartbeatMs ?? 5000,
    reprobeMs: 3000,
    closeGraceMs: 10_000,
    namedIdleMs: options.namedIdleMs,
    maxNamedPorts: options.maxNamedPorts,
  });
  const events: HubEvent[] = [];
  manager.subscribe((event) => events.push(event));
  const rig: Rig = {
    timers,
    discovery,
    manager,
    events,
    opens,
    peers,
    terminal(port, sn = `SN${terminals.size + 1}`) {
      const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 5, identity: { sn } });
      const meter = new Meter();
      terminal.addBehaviour(meter);
      terminals.set(port, terminal);
      return { terminal, meter };
    },
    foreign(port, reply) {
      const state = { reply, bytes: 0, text: '' };
      foreign.set(port, state);
      return { bytes: () => state.bytes, text: () => state.text };
    },
  };
  rigs.push(rig);
  return rig;
}

function kinds(events: HubEvent[], port?: string): string[] {
  return events
    .filter((e) => !port || ('terminal' in e && e.terminal.port === port))
    .map((e) => ('terminal' in e ? `${e.type}:${e.terminal.state}` : e.type));
}

describe('DaemonPortManager: identification', () => {
  it('a port that appears is announced, then identified with HELLO and STATUS (added, then updated)', async () => {
    const rig = makeRig();
    const { meter } = rig.terminal('mem://a', 'PBX001');
    await rig.manager.start();
    rig.discovery.appear('mem://a', {
      usb: { vendorId: '0b00', productId: '0001' },
      byId: '/dev/serial/by-id/x',
    });
    await rig.timers.advance(0);
    expect(kinds(rig.events)).toEqual(['terminal-added:identifying', 'terminal-updated:present']);
    const added = rig.events[0] as Extract<HubEvent, { type: 'terminal-added' }>;
    expect(added.terminal).toMatchObject({
      port: 'mem://a',
      usb: { vendorId: '0b00' },
      byId: '/dev/serial/by-id/x',
    });
    const updated = rig.events[1] as Extract<HubEvent, { type: 'terminal-updated' }>;
    expect(updated.terminal.hello).toMatchObject({ sn: 'PBX001', proto: 1, state: 'factory' });
    expect(updated.terminal.status).toMatchObject({ factoryPw: ['admin', '01'], locked: false });
    expect(meter.verbs).toEqual(['HELLO', 'STATUS']);
    expect(rig.manager.list()).toEqual([expect.objectContaining({ port: 'mem://a', state: 'present' })]);
    await rig.manager.settled();
  });

  it('candidates known at start are identified; settled() waits for them', async () => {
    const rig = makeRig({ initial: ['mem://a', 'mem://b'] });
    rig.terminal('mem://a');
    rig.terminal('mem://b');
    await rig.manager.start();
    expect(rig.manager.list().map((t) => t.state)).toEqual(['identifying', 'identifying']);
    await rig.manager.settled();
    expect(rig.manager.list().map((t) => t.state)).toEqual(['present', 'present']);
  });

  it('a device that is not TSP/1 (a modem answering OK) is marked error, closed, and not probed again until it reappears', async () => {
    const rig = makeRig();
    const modem = rig.foreign('mem://modem', 'OK');
    await rig.manager.start();
    rig.discovery.appear('mem://modem');
    await rig.timers.advance(1000);
    expect(kinds(rig.events)).toEqual(['terminal-added:identifying', 'terminal-updated:error']);
    const [info] = rig.manager.list();
    expect(info).toMatchObject({ state: 'error', error: { code: 'UNSUPPORTED' } });
    expect(info!.error!.message).toMatch(/not a TSP\/1 terminal/);
    const bytes = modem.bytes();
    await rig.timers.advance(60_000);
    expect(rig.opens).toEqual(['mem://modem']);
    expect(modem.bytes()).toBe(bytes);

    rig.discovery.disappear('mem://modem');
    rig.discovery.appear('mem://modem');
    await rig.timers.advance(0);
    expect(rig.opens).toEqual(['mem://modem', 'mem://modem']);
  });

  it('a silent device is marked error (the session gave up, at the latest after identifyMs)', async () => {
    const rig = makeRig();
    const mute = rig.foreign('mem://mute');
    await rig.manager.start();
    rig.discovery.appear('mem://mute');
    await rig.timers.advance(REQUEST_MS - 1);
    expect(rig.manager.list()[0]!.state).toBe('identifying');
    await rig.timers.advance(1000);
    expect(rig.manager.list()[0]).toMatchObject({ state: 'error', error: { code: 'UNSUPPORTED' } });
    expect(rig.manager.list()[0]!.error!.message).toMatch(/TIMEOUT|stopped answering|no reply|within/i);
    // HELLO and its retransmissions (the same line), nothing else.
    const lines = mute.text().split('\r\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines).size).toBe(1);
    expect(lines[0]).toMatch(/^@\d+ HELLO proto=1 \*[0-9A-F]{4}$/);
  });

  it('a port that fails to open is listed as error and opened again later', async () => {
    const rig = makeRig();
    await rig.manager.start();
    rig.discovery.appear('mem://late');
    await rig.timers.advance(0);
    expect(rig.manager.list()[0]).toMatchObject({ state: 'error', error: { code: 'PORT_NOT_FOUND' } });
    rig.terminal('mem://late');
    await rig.timers.advance(3000);
    expect(rig.manager.list()[0]).toMatchObject({ state: 'present' });
    expect(rig.opens).toEqual(['mem://late', 'mem://late']);
  });
});

describe('DaemonPortManager: leases', () => {
  it('hands the connection to one operation at a time, in order; busy while leased; close() gives it back', async () => {
    const rig = makeRig();
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    rig.events.length = 0;

    const order: string[] = [];
    const first = await rig.manager.lease('mem://a');
    expect(rig.manager.list()[0]!.state).toBe('busy');
    const second = rig.manager.lease('mem://a').then((c) => {
      order.push('second');
      return c;
    });
    const third = rig.manager.lease('mem://a').then((c) => {
      order.push('third');
      return c;
    });
    await settle();
    expect(order).toEqual([]);
    expect((await first.hello()).sn).toBe('SN1');
    await first.close();
    const c2 = await second;
    expect(order).toEqual(['second']);
    await c2.status();
    await c2.close();
    const c3 = await third;
    expect(order).toEqual(['second', 'third']);
    await c3.close();
    await settle();
    expect(kinds(rig.events)).toEqual(['terminal-updated:busy', 'terminal-updated:present']);
    expect(rig.manager.list()[0]!.state).toBe('present');
    // The lease's close() kept the port open: no second open.
    expect(rig.opens).toEqual(['mem://a']);
    // After the last release a STATUS refreshes what the list shows.
    expect(meter.verbs.at(-1)).toBe('STATUS');
    await expect(first.status()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('skips heartbeats while leased and checks idle links every heartbeatMs', async () => {
    const rig = makeRig({ heartbeatMs: 5000 });
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const base = meter.count('STATUS');
    await rig.timers.advance(15_000);
    expect(meter.count('STATUS')).toBe(base + 3);

    const lease = await rig.manager.lease('mem://a');
    const during = meter.count('STATUS');
    await rig.timers.advance(30_000);
    expect(meter.count('STATUS')).toBe(during);
    await lease.hello();
    await lease.close();
    await rig.timers.advance(0);
    expect(meter.count('STATUS')).toBe(during + 1);
    await rig.timers.advance(5000);
    expect(meter.count('STATUS')).toBe(during + 2);
  });

  it('a lease given back unused (an operation refused before its first request) sends nothing', async () => {
    const rig = makeRig({ heartbeatMs: 5000 });
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    const before = meter.verbs.length;
    await lease.close();
    await rig.timers.advance(4999);
    expect(meter.verbs.length).toBe(before);
    // The idle check goes on as before.
    await rig.timers.advance(1);
    expect(meter.verbs.slice(before)).toEqual(['STATUS']);
    expect(rig.manager.list()[0]?.state).toBe('present');
  });

  it('shows what an operation changed: a new admin password drops admin from factory_pw', async () => {
    const rig = makeRig();
    rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    await lease.login('admin', new Secret('1234'));
    await lease.passwd({ old: new Secret('1234'), new: new Secret('Qx7-admin-Pw') });
    await lease.logout();
    rig.events.length = 0;
    await lease.close();
    await rig.timers.advance(0);
    const last = rig.events.at(-1) as Extract<HubEvent, { type: 'terminal-updated' }>;
    expect(last.type).toBe('terminal-updated');
    expect(last.terminal.status?.factoryPw).toEqual(['01']);
  });

  it('opens a port that is not known yet on demand (the caller named it), once for concurrent leases', async () => {
    const rig = makeRig();
    rig.terminal('tcp://10.0.0.7:4001');
    await rig.manager.start();
    const [a, b] = [rig.manager.lease('tcp://10.0.0.7:4001'), rig.manager.lease('tcp://10.0.0.7:4001')];
    const first = await a;
    expect((await first.hello()).sn).toBe('SN1');
    await first.close();
    await (await b).close();
    expect(rig.opens).toEqual(['tcp://10.0.0.7:4001']);
    expect(kinds(rig.events).slice(0, 2)).toEqual(['terminal-added:identifying', 'terminal-updated:present']);
    await expect(rig.manager.lease('mem://nothing')).rejects.toMatchObject({ code: 'PORT_NOT_FOUND' });
    expect(rig.manager.list().map((t) => t.port)).toEqual(['tcp://10.0.0.7:4001']);
  });

  it('a lease of a port that is not TSP/1 fails with UNSUPPORTED (after one more try: the caller named it)', async () => {
    const rig = makeRig();
    rig.foreign('mem://modem', 'ERROR');
    await rig.manager.start();
    rig.discovery.appear('mem://modem');
    await rig.timers.advance(1000);
    const lease = rig.manager.lease('mem://modem').catch((e) => e);
    await rig.timers.advance(1000);
    expect(await lease).toMatchObject({ code: 'UNSUPPORTED' });
    expect(rig.opens).toEqual(['mem://modem', 'mem://modem']);
  });
});

describe('DaemonPortManager: ports named once are forgotten when idle (issue 9, item 8)', () => {
  const IDLE = 60_000;
  /** Leases `port` and gives it back at once. */
  async function use(rig: Rig, port: string): Promise<void> {
    const lease = await rig.manager.lease(port);
    await lease.hello();
    await lease.close();
  }

  it('a port named by a lease is closed and forgotten after namedIdleMs without one (heartbeats do not count)', async () => {
    const rig = makeRig({ namedIdleMs: IDLE, heartbeatMs: 5000 });
    const { terminal, meter } = rig.terminal('tcp://10.0.0.7:4001');
    await rig.manager.start();
    await use(rig, 'tcp://10.0.0.7:4001');
    rig.events.length = 0;
    await rig.timers.advance(IDLE - 1);
    expect(rig.manager.list().map((t) => t.port)).toEqual(['tcp://10.0.0.7:4001']);
    expect(meter.count('STATUS')).toBeGreaterThan(10); // heartbeats went on meanwhile
    await rig.timers.advance(1);
    expect(kinds(rig.events)).toEqual(['terminal-removed:gone']);
    const removed = rig.events[0] as Extract<HubEvent, { type: 'terminal-removed' }>;
    expect(removed.terminal.error).toEqual({
      code: 'CLOSED',
      message:
        'tcp://10.0.0.7:4001: closed and forgotten by the daemon (no lease for 60 s); naming it again opens it again',
    });
    expect(rig.manager.list()).toEqual([]);
    expect(terminal.connectionCount).toBe(0);
    // No heartbeat or timer is left for it.
    const statuses = meter.count('STATUS');
    await rig.timers.advance(IDLE * 3);
    expect(meter.count('STATUS')).toBe(statuses);
    // Named again: opened again.
    await use(rig, 'tcp://10.0.0.7:4001');
    expect(rig.opens).toEqual(['tcp://10.0.0.7:4001', 'tcp://10.0.0.7:4001']);
  });

  it('never while leased or waited for: the idle time starts when the last lease is given back', async () => {
    const rig = makeRig({ namedIdleMs: IDLE });
    rig.terminal('mock://bench');
    await rig.manager.start();
    const first = await rig.manager.lease('mock://bench');
    const second = rig.manager.lease('mock://bench');
    await rig.timers.advance(IDLE * 2);
    expect(rig.manager.list()[0]).toMatchObject({ port: 'mock://bench', state: 'busy' });
    await first.close();
    const held = await second;
    await rig.timers.advance(IDLE * 2);
    expect((await held.status()).state).toBe('factory');
    await held.close();
    await rig.timers.advance(IDLE - 1);
    expect(rig.manager.list().map((t) => t.state)).toEqual(['present']);
    await rig.timers.advance(1);
    expect(rig.manager.list()).toEqual([]);
  });

  it('ports discovery lists (allow-list, config ports) are never forgotten for idleness, nor is a named port discovery finds later', async () => {
    const rig = makeRig({ namedIdleMs: IDLE });
    rig.terminal('mem://usb');
    rig.terminal('mem://later');
    await rig.manager.start();
    rig.discovery.appear('mem://usb');
    await use(rig, 'mem://later');
    rig.discovery.appear('mem://later');
    await rig.timers.advance(IDLE * 5);
    expect(
      rig.manager
        .list()
        .map((t) => t.port)
        .sort(),
    ).toEqual(['mem://later', 'mem://usb']);
  });

  it('at most maxNamedPorts: one more evicts the one idle longest; all in use, the new name is refused (PORT_BUSY, exit 3) and not opened', async () => {
    const rig = makeRig({ namedIdleMs: 0, maxNamedPorts: 2 });
    for (const port of ['tcp://h:1', 'tcp://h:2', 'tcp://h:3', 'tcp://h:4']) rig.terminal(port);
    await rig.manager.start();
    await use(rig, 'tcp://h:1');
    await rig.timers.advance(1000);
    await use(rig, 'tcp://h:2');
    await rig.timers.advance(1000);
    await use(rig, 'tcp://h:1'); // now h:2 is the one idle longest
    rig.events.length = 0;
    await use(rig, 'tcp://h:3');
    expect(kinds(rig.events)[0]).toBe('terminal-removed:gone');
    expect(
      rig.manager
        .list()
        .map((t) => t.port)
        .sort(),
    ).toEqual(['tcp://h:1', 'tcp://h:3']);
    // Both held: a fourth name finds no room.
    const a = await rig.manager.lease('tcp://h:1');
    const b = await rig.manager.lease('tcp://h:3');
    const refused = await rig.manager.lease('tcp://h:4').catch((e: unknown) => e);
    expect(isPosbridgeError(refused, 'PORT_BUSY')).toBe(true);
    expect(exitCodeFor(refused)).toBe(3);
    expect((refused as PosbridgeError).message).toBe(
      'tcp://h:4 was not opened: the daemon already holds 2 ports named on demand, all in use',
    );
    expect(rig.opens).not.toContain('tcp://h:4');
    await a.close();
    await b.close();
    // namedIdleMs 0: never forgotten by time.
    await rig.timers.advance(24 * 3600_000);
    expect(rig.manager.list()).toHaveLength(2);
  });
});

describe('DaemonPortManager: links that die', () => {
  it('unplug (the port disappears): pending calls and queued leases fail at once with DISCONNECTED', async () => {
    const rig = makeRig();
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    meter.muted = true;
    const pending = lease.status().catch((e) => e);
    const queued = rig.manager.lease('mem://a').catch((e) => e);
    await settle();
    rig.events.length = 0;
    rig.discovery.disappear('mem://a');
    const [error, waiter] = await Promise.all([pending, queued]);
    expect(isPosbridgeError(error, 'DISCONNECTED')).toBe(true);
    expect(isPosbridgeError(waiter, 'DISCONNECTED')).toBe(true);
    expect(kinds(rig.events)).toEqual(['terminal-removed:gone']);
    expect(rig.manager.list()).toEqual([]);
    await expect(lease.hello()).rejects.toMatchObject({ code: 'DISCONNECTED' });
    await lease.close();
  });

  it('the link ends (cable pulled at the terminal): terminal-removed, the lease fails with DISCONNECTED', async () => {
    const rig = makeRig();
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    meter.muted = true;
    const pending = lease.status().catch((e) => e);
    await settle();
    rig.peers.get('mem://a')!.close();
    expect(await pending).toMatchObject({ code: 'DISCONNECTED' });
    expect(kinds(rig.events).at(-1)).toBe('terminal-removed:gone');
  });

  it('a heartbeat without a reply marks a silent link gone, closes it, and probes the still-present port again later', async () => {
    const rig = makeRig({ heartbeatMs: 5000 });
    const { terminal, meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    meter.muted = true;
    rig.events.length = 0;
    await rig.timers.advance(5000);
    expect(kinds(rig.events)).toEqual([]);
    // The session's reply timeout and its 3 retransmissions, each wait longer than the last
    // (docs/protocol.md §18): 100 + 212 + 425 + 425 ms of silence.
    const silence =
      REQUEST_MS + [1, 2, 3].reduce((sum, n) => sum + retransmitWaitMs(REQUEST_MS, n, 8000, () => 0.5), 0);
    await rig.timers.advance(silence - 1);
    expect(kinds(rig.events)).toEqual([]);
    await rig.timers.advance(1);
    expect(kinds(rig.events)).toEqual(['terminal-removed:gone']);
    const removed = rig.events[0] as Extract<HubEvent, { type: 'terminal-removed' }>;
    expect(removed.terminal.error?.code).toBe('DISCONNECTED');
    expect(terminal.connectionCount).toBe(0);
    expect(rig.manager.list()).toEqual([]);
    // Still listed by discovery: opened again after reprobeMs; it answers again by then.
    meter.muted = false;
    await rig.timers.advance(3000);
    expect(kinds(rig.events).slice(1)).toEqual(['terminal-added:identifying', 'terminal-updated:present']);
    expect(terminal.connectionCount).toBe(1);
  });

  it('a heartbeat answered with an error (503) keeps the link', async () => {
    const rig = makeRig({ heartbeatMs: 5000 });
    const { terminal } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    terminal.addBehaviour({ name: 'busy', onRequest: () => ({ busy: true }) });
    await rig.timers.advance(5000 + 60_000);
    expect(rig.manager.list()[0]!.state).toBe('present');
  });

  it('an EVT (reboot) refreshes the status', async () => {
    const rig = makeRig({ heartbeatMs: 0 });
    const { terminal, meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const before = meter.count('STATUS');
    terminal.reboot();
    // The mock's own reboot timer (5 ms, real time) brings EVT boot.
    for (let i = 0; i < 200 && meter.count('STATUS') === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await rig.timers.advance(0);
    }
    expect(meter.count('STATUS')).toBe(before + 1);
  });
});

describe('DaemonPortManager: close()', () => {
  it('waits for a running lease, fails queued ones with CLOSED, refuses new ones, closes every port and the discovery', async () => {
    const rig = makeRig();
    rig.terminal('mem://a');
    rig.terminal('mem://b');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    rig.discovery.appear('mem://b');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    const queued = rig.manager.lease('mem://a').catch((e) => e);
    let done = false;
    const closing = rig.manager.close().then(() => {
      done = true;
    });
    expect(await queued).toMatchObject({ code: 'CLOSED' });
    await rig.timers.advance(1000);
    expect(done).toBe(false);
    expect((await lease.status()).state).toBe('factory');
    await lease.close();
    await closing;
    expect(rig.discovery.closed).toBe(true);
    await expect(rig.manager.lease('mem://b')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a lease never given back: after closeGraceMs the port closes under it', async () => {
    const rig = makeRig();
    const { meter } = rig.terminal('mem://a');
    await rig.manager.start();
    rig.discovery.appear('mem://a');
    await rig.timers.advance(0);
    const lease = await rig.manager.lease('mem://a');
    meter.muted = true;
    const pending = lease.diag().catch((e) => e);
    const closing = rig.manager.close();
    await rig.timers.advance(10_000);
    await closing;
    expect(await pending).toMatchObject({ code: 'CLOSED' });
  });
});
