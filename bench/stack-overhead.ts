/**
 * Benchmark 2, stack overhead: round trips per second of a trivial command (STATUS, what the
 * daemon's heartbeat sends) through the real Session and TerminalDriver, one request in flight,
 * against an UNPACED mock terminal (baud 0: the wire costs nothing, only the software does):
 * - pty: the real serialport binding on a pseudo-terminal; the mock terminal runs in another
 *   process (bench/mock-farm.ts) behind its python3 pty bridge, as a device would be elsewhere;
 * - tcp: the tcp:// transport to the mock's TCP listener, in that other process too;
 * - in-process: the mock's in-process binding (mock://) with the terminal in this process, for
 *   reference: no kernel, no bridge, no second process.
 * CPU is reported per round trip for this process (the host's stack), the mock's process and the
 * pty bridge separately.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TerminalDriver } from '../src/host/driver.js';
import { createPortRegistry, type PortRegistry, serialPortFactory } from '../src/host/ports/index.js';
import { MockTerminal } from '../src/mock-device/index.js';
import { createInProcessBinding } from '../src/mock-device/transports/index.js';
import { directIoBinding } from './lib/direct-io-binding.js';
import { startFarm } from './lib/farm.js';
import { silentLogger } from './lib/logger.js';
import { sampleGroup } from './lib/proc.js';
import { seededRandom } from './lib/provisioning.js';
import { round, roundSummary, type Summary, summarize } from './lib/stats.js';

export const STACK_TARGET = 5000;

/** `pty-direct-io` is an experiment (bench/lib/direct-io-binding.ts), not posbridge's code path. */
export type StackTransport = 'pty' | 'tcp' | 'in-process' | 'pty-direct-io';

export interface StackOptions {
  transports: StackTransport[];
  /** Measured windows per transport. */
  windows: number;
  windowMs: number;
  warmup: number;
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

export interface StackResults {
  cases: StackCase[];
}

interface Rig {
  driver: TerminalDriver;
  /** The mock's process, when it has one. */
  mockPid?: number;
  /** The pty bridge processes. */
  bridgePids: number[];
  close(): Promise<void>;
}

async function openRig(transport: StackTransport, dir: string): Promise<Rig> {
  const logger = silentLogger();
  const open = (port: string, registry: PortRegistry) =>
    TerminalDriver.open(port, { registry, logger, baudRate: 115_200, random: seededRandom(3) });
  if (transport === 'in-process') {
    const terminal = new MockTerminal({ baud: 0, identity: { sn: 'BENCHSTACK1' } });
    const binding = createInProcessBinding(() => (link) => terminal.attach(link));
    const registry = createPortRegistry();
    registry.register('mock', serialPortFactory({ binding: binding as never, deviceChecks: false }));
    const driver = await open('mock://stack', registry);
    return {
      driver,
      bridgePids: [],
      close: async () => {
        await driver.close();
        terminal.close();
      },
    };
  }
  const farm = await startFarm({
    transport: transport === 'tcp' ? 'tcp' : 'pty',
    count: 1,
    baud: 0,
    diagTimeScale: 0,
    dir,
  });
  try {
    const registry =
      transport === 'pty-direct-io'
        ? createPortRegistry({
            devices: serialPortFactory({ binding: await directIoBinding(), deviceChecks: true }),
          })
        : createPortRegistry();
    const driver = await open(farm.ports[0]!, registry);
    return {
      driver,
      mockPid: farm.pid,
      bridgePids: farm.helperPids(),
      close: async () => {
        await driver.close();
        await farm.close();
      },
    };
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

async function measureWindow(rig: Rig, windowMs: number): Promise<Window> {
  const mockBefore = sampleGroup(rig.mockPid === undefined ? [] : [rig.mockPid]);
  const bridgesBefore = sampleGroup(rig.bridgePids);
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
  const mockAfter = sampleGroup(rig.mockPid === undefined ? [] : [rig.mockPid]);
  const bridgesAfter = sampleGroup(rig.bridgePids);
  return {
    rate: (count * 1000) / elapsed,
    hostCpuUs: (cpu.user + cpu.system) / count,
    mockCpuUs: ((mockAfter.cpuMs - mockBefore.cpuMs) * 1000) / count,
    bridgeCpuUs: ((bridgesAfter.cpuMs - bridgesBefore.cpuMs) * 1000) / count,
    count,
  };
}

export async function runStackOverhead(options: StackOptions): Promise<StackResults> {
  const dir = mkdtempSync(path.join(tmpdir(), 'posbridge-bench-stack-'));
  const rigs: Array<{ transport: StackTransport; rig: Rig; windows: Window[] }> = [];
  try {
    for (const transport of options.transports) {
      const rig = await openRig(transport, dir);
      rigs.push({ transport, rig, windows: [] });
      for (let i = 0; i < options.warmup; i++) await rig.driver.status();
    }
    // Windows interleaved across transports: a change in the machine's load touches them alike.
    for (let w = 0; w < options.windows; w++) {
      for (const entry of rigs) {
        const window = await measureWindow(entry.rig, options.windowMs);
        entry.windows.push(window);
        options.log(`  stack ${entry.transport} window ${w + 1}: ${window.rate.toFixed(0)} round trips/s`);
      }
    }
    return { cases: rigs.map(({ transport, rig, windows }) => summarizeCase(transport, rig, windows)) };
  } finally {
    for (const { rig } of rigs) await rig.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarizeCase(transport: StackTransport, rig: Rig, windows: Window[]): StackCase {
  const rates = summarize(windows.map((w) => w.rate));
  const middle = [...windows].sort((a, b) => a.rate - b.rate)[Math.floor(windows.length / 2)]!;
  const hasTarget = transport === 'pty' || transport === 'tcp';
  return {
    transport,
    command: 'STATUS',
    roundTripsPerSecond: roundSummary(rates, 0),
    roundTripUs: round(1e6 / rates.median, 1),
    hostCpuPerRoundTripUs: round(middle.hostCpuUs, 1),
    ...(rig.mockPid !== undefined && { mockCpuPerRoundTripUs: round(middle.mockCpuUs, 1) }),
    ...(transport.startsWith('pty') && { bridgeCpuPerRoundTripUs: round(middle.bridgeCpuUs, 1) }),
    ...(hasTarget && { target: STACK_TARGET, met: rates.median >= STACK_TARGET }),
  };
}
