/**
 * Benchmark 3, scale: N mock terminals provisioned at once by one DaemonPortManager + LocalEngine
 * (the daemon's code path: each operation leases its port; a port named for the first time is
 * opened and identified, HELLO + STATUS, then lent). Run twice by run.ts: 1, 8, 32 and 64
 * terminals on ptys, and 1, 64, 128 and 256 on TCP.
 *
 * The terminals live in another process (bench/mock-farm.ts): on ptys each behind its own python3
 * pty bridge, on TCP each on its own listener (no bridges: the rig then leaves the two cores to the
 * daemon and the mock). Paced at 115200 baud with the declared DIAG time (diagTimeScale 1), so the
 * wire and the terminals' processing dominate as on real hardware. They are all started before the
 * timed section; between runs every terminal is replaced by a factory-new one.
 *
 * Reported per size: wall time (median of the runs) and its ratio to one terminal; this process's
 * peak RSS (sampled every 50 ms), CPU time (process.cpuUsage, without the memory sampler's own,
 * which is the rig's and reported apart) and CPU per exchange (the requests written, counted at the
 * transport), its event loop's lateness (monitorEventLoopDelay); the mock process's and the
 * bridges' CPU and RSS from /proc, the mock process's event-loop lateness, and the whole machine's
 * busy CPU time (/proc/stat), so that the report can say who used the two cores. With `profile`, the first run at one size is
 * recorded as a CPU profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DaemonPortManager } from '../src/daemon/port-manager/manager.js';
import { TerminalDriver } from '../src/host/driver.js';
import { createPortRegistry, serialPortFactory, tcpPortFactory } from '../src/host/ports/index.js';
import { countingFactory, type WriteCounter } from './lib/counting.js';
import { startFarm } from './lib/farm.js';
import { silentLogger } from './lib/logger.js';
import { machineCpu, sampleGroup, sampleProcess, threadCpuMs } from './lib/proc.js';
import { startProfile } from './lib/profiler.js';
import { assertProvisioned, engineFor, provisionRequest, seededRandom } from './lib/provisioning.js';
import { median, round, roundSummary, type Summary, summarize } from './lib/stats.js';
import { SCALE_TARGETS } from './scale-targets.js';

export interface ScaleOptions {
  sizes: number[];
  /** Where the terminals are: ptys (each with a python bridge) or TCP listeners. Default pty. */
  transport?: 'pty' | 'tcp';
  reps: number;
  baud: number;
  diagTimeScale: number;
  /**
   * After the measured runs, one more run with this many terminals, recorded as a CPU profile
   * (.cpuprofile) into `file`; its figures are not part of the results (sampling costs a little).
   */
  profile?: { terminals: number; file: string } | undefined;
  log: (line: string) => void;
}

export interface ScaleCase {
  terminals: number;
  wallMs: Summary;
  /** median wall(N) / median wall(1). */
  wallRatio: number;
  /**
   * Peak RSS of this process during the first run of this size, MiB. Sizes run in ascending order
   * in the first repetition, and V8 keeps what it took, so this is the high-water mark of a daemon
   * that has served N terminals at once.
   */
  peakRssMiB: number;
  /** Peak RSS minus RSS just before that run, MiB. */
  rssGrowthMiB: number;
  /** Peak JS heap in use during the run above the live heap before it (after a GC), MiB (median run). */
  heapGrowthMiB: number;
  /** Live heap after the run and a GC, minus before: memory the run left behind, MiB (median run). */
  heapRetainedMiB: number;
  /**
   * CPU time of this process during the run, ms (median run), without the rig's memory sampler
   * (samplerCpuMs): the daemon's code path and the benchmark's engine driving it.
   */
  cpuMs: number;
  /**
   * CPU of the rig's memory sampler (process.memoryUsage every 50 ms) on this process's main thread,
   * ms (its calls × the CPU of one, measured before the run): not the daemon's work, not in cpuMs.
   */
  samplerCpuMs?: number;
  /** Of cpuMs, the main thread's (/proc schedstat): the rest is V8's helper threads and libuv's pool. */
  mainThreadCpuMs?: number;
  /** The whole machine's busy CPU time during the run, all processes and cores (/proc/stat), ms. */
  machineBusyMs?: number;
  /** Cores × wall time of the run, ms (from /proc/stat). */
  machineTotalMs?: number;
  /** Lateness of the mock farm's event loop during the run, ms: 99th percentile and worst. */
  mockLoopP99Ms?: number;
  mockLoopMaxMs?: number;
  cpuPerTerminalMs: number;
  /** The mock terminals' process and the pty bridges, CPU during the run, ms (median run). */
  mockCpuMs: number;
  bridgesCpuMs: number;
  /** Requests written during the run (exchanges, retransmissions included; median run). */
  exchanges: number;
  /** This process's CPU per exchange, µs (median run). */
  cpuPerExchangeUs: number;
  /** Lateness of this process's event loop during the run, ms (median run): worst, 99th percentile, mean. */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMeanMs: number;
  target?: number;
  met?: boolean;
  /** The peak RSS target at this size, MiB, and whether it was met. */
  peakRssTargetMiB?: number;
  peakRssMet?: boolean;
}

export interface ScaleResults {
  transport: 'pty' | 'tcp';
  baud: number;
  diagTimeScale: number;
  reps: number;
  /** Time to start the mock process with all its terminals and bridges (untimed section), ms. */
  farmStartMs: number;
  bridges: { count: number; rssMiBTotal: number; rssMiBEach: number };
  mockProcessRssMiB: number;
  /** RSS of this process before any run, MiB. */
  baselineRssMiB: number;
  cases: ScaleCase[];
  /** The profiled run, when one was asked for. */
  profile?: { terminals: number; file: string; wallMs: number; cpuMs: number; exchanges: number };
}

interface Run {
  wallMs: number;
  peakRss: number;
  rssGrowth: number;
  heapGrowth: number;
  heapRetained: number;
  cpuMs: number;
  samplerCpuMs: number;
  mainThreadCpuMs: number;
  machineBusyMs: number;
  machineTotalMs: number;
  mockLoopP99Ms: number;
  mockLoopMaxMs: number;
  mockCpuMs: number;
  bridgesCpuMs: number;
  exchanges: number;
  loopMaxMs: number;
  loopP99Ms: number;
  loopMeanMs: number;
}

const MiB = 2 ** 20;
/** A coarse resolution: a 1 ms sampling timer would itself cost CPU in the process measured. */
const LOOP_RESOLUTION_MS = 20;

/** A histogram figure (ns between samples) as lateness beyond the sampling interval, ms. */
function lateness(ns: number): number {
  return Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0;
}

/** The main thread's CPU per process.memoryUsage() call, ms (the median of a few batches). */
function memoryUsageCostMs(): number {
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const before = threadCpuMs();
    for (let i = 0; i < 10; i++) process.memoryUsage();
    const after = threadCpuMs();
    if (before === undefined || after === undefined) return 0;
    batches.push((after - before) / 10);
  }
  return median(batches);
}

/** A full GC when the process runs with --expose-gc (run.ts starts it so), else nothing. */
function collectGarbage(): void {
  globalThis.gc?.();
}

export async function runScale(options: ScaleOptions): Promise<ScaleResults> {
  // Ascending: the first repetition's peak RSS at N is then the high-water mark after serving N.
  options = { ...options, sizes: [...options.sizes].sort((a, b) => a - b) };
  const max = Math.max(...options.sizes);
  const dir = mkdtempSync(path.join(tmpdir(), 'posbridge-bench-scale-'));
  const transport = options.transport ?? 'pty';
  const farmStarted = performance.now();
  const farm = await startFarm({
    transport,
    count: max,
    baud: options.baud,
    diagTimeScale: options.diagTimeScale,
    dir,
  });
  const farmStartMs = performance.now() - farmStarted;
  options.log(
    `  scale: ${max} mock terminals on ${transport === 'pty' ? 'ptys' : 'TCP'} ready in ${(farmStartMs / 1000).toFixed(1)} s`,
  );
  const logger = silentLogger();
  const counter: WriteCounter = { writes: 0 };
  const registry = createPortRegistry({
    devices: countingFactory(serialPortFactory(), counter),
    tcp: countingFactory(tcpPortFactory(), counter),
  });
  const target = SCALE_TARGETS[transport];
  const runs = new Map<number, Run[]>(options.sizes.map((n) => [n, []]));
  let bridges = { count: 0, rssMiBTotal: 0, rssMiBEach: 0 };
  let mockProcessRssMiB = 0;
  let baselineRssMiB = 0;
  let profiled: ScaleResults['profile'];

  const runOnce = async (n: number, profileFile?: string): Promise<Run> => {
    await farm.fresh();
    const manager = new DaemonPortManager({
      open: (port) =>
        TerminalDriver.open(port, { registry, logger, baudRate: options.baud, random: seededRandom(n) }),
      logger,
    });
    const engine = engineFor((port) => manager.lease(port), n);
    const ports = farm.ports.slice(0, n);
    const helpers = farm.helperPids();
    collectGarbage();
    const rssBefore = process.memoryUsage.rss();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = rssBefore;
    let peakHeap = heapBefore;
    // The sampler is the rig's, not the daemon's: its CPU is kept apart, as its number of calls
    // times the main thread's CPU per call measured here (timing each call would count the waits
    // for a core on a busy machine, and process.cpuUsage V8's GC threads running meanwhile).
    const samplerCallMs = memoryUsageCostMs();
    let samples = 0;
    const sample = () => {
      samples++;
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    };
    const sampler = setInterval(sample, 50);
    sampler.unref();
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const profile = profileFile === undefined ? undefined : await startProfile();
    loop.enable();
    farm.loopStart();
    const machineBefore = machineCpu();
    const mockBefore = sampleProcess(farm.pid);
    const bridgesBefore = sampleGroup(helpers);
    const writesBefore = counter.writes;
    const mainBefore = threadCpuMs();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const reports = await Promise.all(
      ports.map((port, i) => engine.provision({ request: provisionRequest(port, i) })),
    );
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const mainAfter = threadCpuMs();
    const exchanges = counter.writes - writesBefore;
    if (profile) await profile.stop(profileFile!);
    const bridgesAfter = sampleGroup(helpers);
    const mockAfter = sampleProcess(farm.pid);
    const machineAfter = machineCpu();
    const mockLoop = await farm.loopStop();
    loop.disable();
    clearInterval(sampler);
    const samplerMs = samples * samplerCallMs;
    sample();
    for (const report of reports) assertProvisioned(report);
    await manager.close();
    collectGarbage();
    const heapAfter = process.memoryUsage().heapUsed;
    if (n === max) {
      bridges = {
        count: bridgesAfter.count,
        rssMiBTotal: round(bridgesAfter.rssKiB / 1024, 1),
        rssMiBEach: round(bridgesAfter.rssKiB / 1024 / Math.max(1, bridgesAfter.count), 2),
      };
      mockProcessRssMiB = round((mockAfter?.rssKiB ?? 0) / 1024, 1);
    }
    return {
      wallMs,
      peakRss,
      rssGrowth: peakRss - rssBefore,
      heapGrowth: peakHeap - heapBefore,
      heapRetained: heapAfter - heapBefore,
      cpuMs: (cpu.user + cpu.system) / 1000 - samplerMs,
      samplerCpuMs: samplerMs,
      mainThreadCpuMs: (mainAfter ?? 0) - (mainBefore ?? 0) - samplerMs,
      machineBusyMs: (machineAfter?.busyMs ?? 0) - (machineBefore?.busyMs ?? 0),
      machineTotalMs: (machineAfter?.totalMs ?? 0) - (machineBefore?.totalMs ?? 0),
      mockLoopP99Ms: mockLoop.p99Ms,
      mockLoopMaxMs: mockLoop.maxMs,
      mockCpuMs: (mockAfter?.cpuMs ?? 0) - (mockBefore?.cpuMs ?? 0),
      bridgesCpuMs: bridgesAfter.cpuMs - bridgesBefore.cpuMs,
      exchanges,
      // The histogram records the time between samples: what exceeds the resolution is lateness.
      loopMaxMs: lateness(loop.max),
      loopP99Ms: lateness(loop.percentile(99)),
      loopMeanMs: lateness(loop.mean),
    };
  };

  try {
    // Warm-up (module loading, JIT), not recorded.
    await runOnce(1);
    collectGarbage();
    baselineRssMiB = round(process.memoryUsage.rss() / MiB, 1);
    // Sizes interleaved across repetitions: a change in the machine's load touches every size.
    for (let rep = 0; rep < options.reps; rep++) {
      for (const n of options.sizes) {
        const run = await runOnce(n);
        runs.get(n)!.push(run);
        options.log(
          `  scale ${n} terminals run ${rep + 1}: ${run.wallMs.toFixed(0)} ms, peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB, CPU ${run.cpuMs.toFixed(0)} ms (${((run.cpuMs * 1000) / Math.max(1, run.exchanges)).toFixed(0)} µs per exchange), loop late ≤ ${run.loopMaxMs.toFixed(0)} ms`,
        );
      }
    }
    if (options.profile) {
      const { terminals, file } = options.profile;
      const run = await runOnce(terminals, file);
      profiled = {
        terminals,
        file,
        wallMs: round(run.wallMs, 0),
        cpuMs: round(run.cpuMs, 0),
        exchanges: run.exchanges,
      };
      options.log(
        `  scale: CPU profile of ${terminals} terminals (${run.wallMs.toFixed(0)} ms) written to ${file}`,
      );
    }
  } finally {
    await farm.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const base = median(runs.get(options.sizes[0]!)!.map((r) => r.wallMs));
  const cases = options.sizes.map((n): ScaleCase => {
    const list = runs.get(n)!;
    const wall = summarize(list.map((r) => r.wallMs));
    const mid = [...list].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(list.length / 2)]!;
    const first = list[0]!;
    const ratio = wall.median / base;
    const judged = n === target.terminals;
    const rssJudged = judged && target.peakRssMiB !== undefined;
    return {
      terminals: n,
      wallMs: roundSummary(wall, 0),
      wallRatio: round(ratio, 3),
      peakRssMiB: round(first.peakRss / MiB, 1),
      rssGrowthMiB: round(first.rssGrowth / MiB, 1),
      heapGrowthMiB: round(median(list.map((r) => r.heapGrowth)) / MiB, 1),
      heapRetainedMiB: round(median(list.map((r) => r.heapRetained)) / MiB, 2),
      cpuMs: round(mid.cpuMs, 0),
      samplerCpuMs: round(mid.samplerCpuMs, 1),
      mainThreadCpuMs: round(mid.mainThreadCpuMs, 0),
      machineBusyMs: round(mid.machineBusyMs, 0),
      machineTotalMs: round(mid.machineTotalMs, 0),
      mockLoopP99Ms: round(mid.mockLoopP99Ms, 1),
      mockLoopMaxMs: round(mid.mockLoopMaxMs, 1),
      cpuPerTerminalMs: round(mid.cpuMs / n, 1),
      mockCpuMs: round(mid.mockCpuMs, 0),
      bridgesCpuMs: round(mid.bridgesCpuMs, 0),
      exchanges: mid.exchanges,
      cpuPerExchangeUs: round((mid.cpuMs * 1000) / Math.max(1, mid.exchanges), 0),
      eventLoopDelayMaxMs: round(mid.loopMaxMs, 1),
      eventLoopDelayP99Ms: round(mid.loopP99Ms, 1),
      eventLoopDelayMeanMs: round(mid.loopMeanMs, 2),
      ...(judged && { target: target.ratio, met: ratio <= target.ratio }),
      ...(rssJudged && {
        peakRssTargetMiB: target.peakRssMiB,
        peakRssMet: first.peakRss / MiB <= target.peakRssMiB!,
      }),
    };
  });
  return {
    transport,
    baud: options.baud,
    diagTimeScale: options.diagTimeScale,
    reps: options.reps,
    farmStartMs: round(farmStartMs, 0),
    bridges,
    mockProcessRssMiB,
    baselineRssMiB,
    cases,
    ...(profiled && { profile: profiled }),
  };
}
