/**
 * Benchmark 2, stack overhead: round trips per second of a trivial command (STATUS, what the
 * daemon's heartbeat sends) through the real Session and TerminalDriver, one request in flight,
 * against an UNPACED mock terminal (baud 0: the wire costs nothing, only the software does):
 * - pty: posbridge's production serial binding on a pseudo-terminal; the mock terminal runs in
 *   another process (bench/mock-farm.ts) behind its python3 pty bridge, as a device would be
 *   elsewhere;
 * - peers: the bare loops on the SAME pty, their windows interleaved with the pty ones (posbridge,
 *   C peer, Python peer, posbridge...): the Python loop issue 12 names as the peer
 *   (bench/peer/bare-loop.py: os.write, select, os.read), against which the target is judged, and
 *   a C one (bench/peer/bare-loop.c: write, poll, read), the kernel and the mock with nothing in
 *   front; posbridge / peer is the stack's cost over what each peer spends, measured in one run;
 * - tcp: the tcp:// transport to the mock's TCP listener, in that other process too;
 * - in-process: the mock's in-process binding (mock://) with the terminal in this process, for
 *   reference: no kernel, no bridge, no second process.
 * CPU is reported per round trip for this process (the host's stack), the peer, the mock's
 * process and the pty bridge separately.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TerminalDriver } from '../src/host/driver.js';
import { createPortRegistry, type PortRegistry, serialPortFactory } from '../src/host/ports/index.js';
import { MockTerminal } from '../src/mock-device/index.js';
import { createInProcessBinding } from '../src/mock-device/transports/index.js';
import { startFarm } from './lib/farm.js';
import { silentLogger } from './lib/logger.js';
import { type BuiltPeer, buildPeer, type PeerKind, type PeerWindow, startPeer } from './lib/peer.js';
import { sampleGroup } from './lib/proc.js';
import { seededRandom } from './lib/provisioning.js';
import { round, roundSummary, type Summary, summarize } from './lib/stats.js';

export const STACK_TARGET = 5000;
/** posbridge over the pty against the bare loop on the same pty, at least. */
export const PEER_RATIO_TARGET = 0.95;
/** The peer the target is judged against: issue 12's table names a Python loop. */
export const TARGET_PEER: PeerKind = 'python';

export type StackTransport = 'pty' | 'tcp' | 'in-process';

export interface StackOptions {
  transports: StackTransport[];
  /** Measured windows per transport. */
  windows: number;
  windowMs: number;
  warmup: number;
  /** The bare-loop peers to run against the pty, in this order after each posbridge window
   * (python needs python3, c a C compiler). Default both. */
  peers?: PeerKind[];
  log: (line: string) => void;
}

export interface StackCase {
  transport: StackTransport;
  command: 'STATUS';
  roundTripsPerSecond: Summary;
  /** Mean time of one round trip, µs (median window). */
  roundTripUs: number;
  /** CPU time of this process per round trip, µs: the host's stack (and, in-process, the mock). */
  hostCpuPerRoundTripUs: number;
  /** CPU time of the mock terminal's process per round trip, µs (pty, tcp). */
  mockCpuPerRoundTripUs?: number;
  /** CPU time of the python pty bridge per round trip, µs (pty). */
  bridgeCpuPerRoundTripUs?: number;
  /** The reference transport has no target. */
  target?: number;
  met?: boolean;
}

export interface PeerResults {
  kind: PeerKind;
  /** How the peer runs (built by the benchmark). */
  program: string;
  roundTripsPerSecond: Summary;
  roundTripUs: number;
  /** The peer's own CPU per round trip, µs (median window). */
  peerCpuPerRoundTripUs: number;
  mockCpuPerRoundTripUs: number;
  bridgeCpuPerRoundTripUs: number;
  /** posbridge's pty rate / the peer's, each pty window against the peer window right after it. */
  ratio: Summary;
  /** Only on the peer the target is judged against (TARGET_PEER). */
  target?: number;
  met?: boolean;
}

export interface StackResults {
  cases: StackCase[];
  /** The peers that ran, the target's first. */
  peers?: PeerResults[];
  /** Why a peer did not run (no C compiler, no python3, ...). */
  peerErrors?: string[];
}

interface Rig {
  driver: TerminalDriver;
  /** The port, for the peer (pty). */
  port?: string;
  /** The mock's process, when it has one. */
  mockPid?: number;
  /** The pty bridge processes. */
  bridgePids: number[];
  /** Closes the port so that the peer can open it (pty), and opens it again. */
  suspend(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

function openDriver(port: string, registry: PortRegistry): Promise<TerminalDriver> {
  return TerminalDriver.open(port, {
    registry,
    logger: silentLogger(),
    baudRate: 115_200,
    random: seededRandom(3),
  });
}

async function openRig(transport: StackTransport, dir: string, warmup: number): Promise<Rig> {
  if (transport === 'in-process') {
    const terminal = new MockTerminal({ baud: 0, identity: { sn: 'BENCHSTACK1' } });
    const binding = createInProcessBinding(() => (link) => terminal.attach(link));
    const registry = createPortRegistry();
    registry.register('mock', serialPortFactory({ binding: binding as never, deviceChecks: false }));
    const driver = await openDriver('mock://stack', registry);
    return {
      driver,
      bridgePids: [],
      suspend: async () => undefined,
      resume: async () => undefined,
      close: async () => {
        await driver.close();
        terminal.close();
      },
    };
  }
  const farm = await startFarm({ transport, count: 1, baud: 0, diagTimeScale: 0, dir });
  try {
    const registry = createPortRegistry();
    const port = farm.ports[0]!;
    const rig: Rig = {
      driver: await openDriver(port, registry),
      port,
      mockPid: farm.pid,
      bridgePids: farm.helperPids(),
      suspend: () => rig.driver.close(),
      resume: async () => {
        rig.driver = await openDriver(port, registry);
        for (let i = 0; i < warmup; i++) await rig.driver.status();
      },
      close: async () => {
        await rig.driver.close();
        await farm.close();
      },
    };
    return rig;
  } catch (error) {
    await farm.close();
    throw error;
  }
}

interface Window {
  rate: number;
  hostCpuUs: number;
  mockCpuUs: number;
  bridgeCpuUs: number;
  count: number;
}

interface RigEntry {
  transport: StackTransport;
  rig: Rig;
  windows: Window[];
}

/** CPU of the mock's process and the bridges around `run`, per round trip. */
async function withOthers(
  rig: Rig,
  run: () => Promise<{ count: number; elapsedMs: number; ownCpuUs: number }>,
): Promise<Window> {
  const mockBefore = sampleGroup(rig.mockPid === undefined ? [] : [rig.mockPid]);
  const bridgesBefore = sampleGroup(rig.bridgePids);
  const { count, elapsedMs, ownCpuUs } = await run();
  const mockAfter = sampleGroup(rig.mockPid === undefined ? [] : [rig.mockPid]);
  const bridgesAfter = sampleGroup(rig.bridgePids);
  return {
    rate: (count * 1000) / elapsedMs,
    hostCpuUs: ownCpuUs / count,
    mockCpuUs: ((mockAfter.cpuMs - mockBefore.cpuMs) * 1000) / count,
    bridgeCpuUs: ((bridgesAfter.cpuMs - bridgesBefore.cpuMs) * 1000) / count,
    count,
  };
}

function measureWindow(rig: Rig, windowMs: number): Promise<Window> {
  return withOthers(rig, async () => {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let count = 0;
    let elapsed = 0;
    do {
      // 50 at a time between clock reads: the clock costs little, but nothing is free here.
      for (let i = 0; i < 50; i++) await rig.driver.status();
      count += 50;
      elapsed = performance.now() - started;
    } while (elapsed < windowMs);
    const cpu = process.cpuUsage(cpuBefore);
    return { count, elapsedMs: elapsed, ownCpuUs: cpu.user + cpu.system };
  });
}

/** One window of a peer on the pty rig's port (the rig has let go of it). */
async function peerWindow(peer: BuiltPeer, rig: Rig, options: StackOptions): Promise<Window> {
  const running = await startPeer(peer, rig.port!, options.warmup);
  try {
    return await withOthers(rig, async () => {
      const w: PeerWindow = await running.window(options.windowMs);
      return { count: w.count, elapsedMs: w.elapsedMs, ownCpuUs: w.cpuUs };
    });
  } finally {
    await running.close();
  }
}

interface PeerEntry {
  peer: BuiltPeer;
  windows: Window[];
  ratios: number[];
  failed?: boolean;
}

export async function runStackOverhead(options: StackOptions): Promise<StackResults> {
  const dir = mkdtempSync(path.join(tmpdir(), 'posbridge-bench-stack-'));
  const rigs: RigEntry[] = [];
  const peers: PeerEntry[] = [];
  const peerErrors: string[] = [];
  if (options.transports.includes('pty')) {
    for (const kind of options.peers ?? ['python', 'c']) {
      try {
        peers.push({ peer: buildPeer(kind), windows: [], ratios: [] });
      } catch (error) {
        peerErrors.push((error as Error).message);
        options.log(`  stack: no ${kind} bare-loop peer: ${(error as Error).message}`);
      }
    }
  }
  try {
    for (const transport of options.transports) {
      const rig = await openRig(transport, dir, options.warmup);
      rigs.push({ transport, rig, windows: [] });
      for (let i = 0; i < options.warmup; i++) await rig.driver.status();
    }
    // Windows interleaved across transports and peers: a change in the machine's load touches them alike.
    for (let w = 0; w < options.windows; w++) {
      for (const entry of rigs) {
        const window = await measureWindow(entry.rig, options.windowMs);
        entry.windows.push(window);
        options.log(`  stack ${entry.transport} window ${w + 1}: ${window.rate.toFixed(0)} round trips/s`);
        if (entry.transport !== 'pty') continue;
        const running = peers.filter((p) => !p.failed);
        if (running.length === 0) continue;
        await entry.rig.suspend();
        try {
          for (const p of running) {
            try {
              const theirs = await peerWindow(p.peer, entry.rig, options);
              p.windows.push(theirs);
              p.ratios.push(window.rate / theirs.rate);
              options.log(
                `  stack ${p.peer.kind} bare-loop peer window ${w + 1}: ${theirs.rate.toFixed(0)} round trips/s (posbridge / peer ${(window.rate / theirs.rate).toFixed(3)})`,
              );
            } catch (error) {
              // A peer is a comparison: without it posbridge's own figures still stand.
              p.failed = true;
              peerErrors.push((error as Error).message);
              options.log(`  stack: the ${p.peer.kind} bare-loop peer failed: ${(error as Error).message}`);
            }
          }
        } finally {
          await entry.rig.resume();
        }
      }
    }
    const cases = rigs.map(({ transport, rig, windows }) => summarizeCase(transport, rig, windows));
    const done = peers
      .filter((p) => !p.failed && p.windows.length > 0)
      .map((p) => summarizePeer(p.peer, p.windows, p.ratios))
      .sort((a, b) => Number(b.kind === TARGET_PEER) - Number(a.kind === TARGET_PEER));
    return {
      cases,
      ...(done.length > 0 && { peers: done }),
      ...(peerErrors.length > 0 && { peerErrors }),
    };
  } finally {
    for (const { rig } of rigs) await rig.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function middleWindow(windows: Window[]): Window {
  return [...windows].sort((a, b) => a.rate - b.rate)[Math.floor(windows.length / 2)]!;
}

function summarizeCase(transport: StackTransport, rig: Rig, windows: Window[]): StackCase {
  const rates = summarize(windows.map((w) => w.rate));
  const middle = middleWindow(windows);
  const hasTarget = transport === 'pty' || transport === 'tcp';
  return {
    transport,
    command: 'STATUS',
    roundTripsPerSecond: roundSummary(rates, 0),
    roundTripUs: round(1e6 / rates.median, 1),
    hostCpuPerRoundTripUs: round(middle.hostCpuUs, 1),
    ...(rig.mockPid !== undefined && { mockCpuPerRoundTripUs: round(middle.mockCpuUs, 1) }),
    ...(transport === 'pty' && { bridgeCpuPerRoundTripUs: round(middle.bridgeCpuUs, 1) }),
    ...(hasTarget && { target: STACK_TARGET, met: rates.median >= STACK_TARGET }),
  };
}

function summarizePeer(peer: BuiltPeer, windows: Window[], ratios: number[]): PeerResults {
  const rates = summarize(windows.map((w) => w.rate));
  const middle = middleWindow(windows);
  const ratio = summarize(ratios);
  return {
    kind: peer.kind,
    program: peer.how,
    roundTripsPerSecond: roundSummary(rates, 0),
    roundTripUs: round(1e6 / rates.median, 1),
    peerCpuPerRoundTripUs: round(middle.hostCpuUs, 1),
    mockCpuPerRoundTripUs: round(middle.mockCpuUs, 1),
    bridgeCpuPerRoundTripUs: round(middle.bridgeCpuUs, 1),
    ratio: roundSummary(ratio, 3),
    ...(peer.kind === TARGET_PEER && { target: PEER_RATIO_TARGET, met: ratio.median >= PEER_RATIO_TARGET }),
  };
}
