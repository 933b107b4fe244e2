/**
 * Benchmark 1, wire efficiency: one full provisioning against the paced mock terminal, at 9600 and
 * 115200 baud, over the in-process serialport binding (the `mock://` path: SerialPortStream,
 * Session, TerminalDriver, LocalEngine, the workflow), as measured time / floor.
 *
 * The mock paces what it sends (its UART model, 10 bit times per byte) but takes what the host
 * sends at once. Two set-ups:
 * - `full-duplex` (the figure judged against the target): the bench also paces host→terminal
 *   bytes at the line rate, so the cable costs what a real one does in both directions;
 * - `mock-as-shipped`: host bytes arrive instantly; they cost nothing here, yet stay in the floor
 *   (they are part of the physical limit), which flatters this ratio.
 */
import { performance } from 'node:perf_hooks';
import { TerminalDriver } from '../src/host/driver.js';
import { createPortRegistry, serialPortFactory } from '../src/host/ports/index.js';
import { MockTerminal } from '../src/mock-device/index.js';
import { createInProcessBinding } from '../src/mock-device/transports/index.js';
import { silentLogger } from './lib/logger.js';
import { assertProvisioned, engineFor, provisionRequest, seededRandom } from './lib/provisioning.js';
import { round, roundSummary, type Summary, summarize } from './lib/stats.js';
import { type Floors, floors, hostTurnaroundMs, newRecording, wireHandler } from './lib/wire.js';

export const WIRE_TARGET = 1.05;

export type InputMode = 'full-duplex' | 'mock-as-shipped';

export interface WireOptions {
  bauds: number[];
  reps: number;
  /** DIAG processing scale of the mock (1: the declared typicalMs). */
  diagTimeScale: number;
  modes: InputMode[];
  log: (line: string) => void;
}

export interface WireCase {
  baud: number;
  mode: InputMode;
  measuredMs: Summary;
  /** The floors of the median run. */
  floors: Floors;
  /** Bytes both ways, least and most over the runs. */
  bytesRange: [number, number];
  /** measured / spec floor, per run (each run against its own floor). */
  ratio: Summary;
  /** measured / critical path (the floor with TSP/1's own overlap inside DIAG), per run. */
  ratioCriticalPath: Summary;
  /** (measured - critical path) / exchanges: what each request/reply costs beyond the wire. */
  overheadPerExchangeMs: number;
  /** Of that, the host's turnaround (last reply line in → next request out), per exchange, median run. */
  hostTurnaroundPerExchangeMs: number;
  /** Judged on the full-duplex set-up only (the other one does not pay for the host's bytes). */
  target?: number;
  met?: boolean;
}

export interface WireResults {
  diagTimeScale: number;
  reps: number;
  transport: string;
  cases: WireCase[];
}

interface OneRun {
  measuredMs: number;
  floors: Floors;
  hostTurnaroundMs: number;
}

let runCounter = 0;

async function provisionOnce(baud: number, mode: InputMode, diagTimeScale: number): Promise<OneRun> {
  const logger = silentLogger();
  const terminal = new MockTerminal({ baud, diagTimeScale, identity: { sn: 'BENCHWIRE01' } });
  const recording = newRecording();
  const binding = createInProcessBinding(() =>
    wireHandler((link) => terminal.attach(link), {
      baud,
      paceInput: mode === 'full-duplex',
      recording,
    }),
  );
  const registry = createPortRegistry();
  registry.register('mock', serialPortFactory({ binding: binding as never, deviceChecks: false }));
  const engine = engineFor((port) =>
    TerminalDriver.open(port, { registry, logger, baudRate: baud, random: seededRandom(7) }),
  );
  const port = `mock://wire${++runCounter}`;
  const started = performance.now();
  const report = await engine.provision({ request: provisionRequest(port) });
  const measuredMs = performance.now() - started;
  terminal.close();
  assertProvisioned(report);
  return {
    measuredMs,
    floors: floors(recording, baud, diagTimeScale),
    hostTurnaroundMs: hostTurnaroundMs(recording),
  };
}

export async function runWireEfficiency(options: WireOptions): Promise<WireResults> {
  const cases = options.bauds.flatMap((baud) => options.modes.map((mode) => ({ baud, mode })));
  const runs = new Map<string, OneRun[]>(cases.map((c) => [key(c), []]));
  // One warm-up run (JIT, module loading), not recorded.
  await provisionOnce(115_200, 'mock-as-shipped', options.diagTimeScale);
  // Interleaved, so that a change in the machine's load touches every case alike.
  for (let rep = 0; rep < options.reps; rep++) {
    for (const c of cases) {
      const run = await provisionOnce(c.baud, c.mode, options.diagTimeScale);
      runs.get(key(c))!.push(run);
      options.log(
        `  wire ${c.baud} baud ${c.mode} run ${rep + 1}: ${run.measuredMs.toFixed(0)} ms (floor ${run.floors.specFloorMs.toFixed(0)} ms)`,
      );
    }
  }
  return {
    diagTimeScale: options.diagTimeScale,
    reps: options.reps,
    transport:
      'in-process serialport binding (mock://), real SerialPortStream/Session/TerminalDriver/LocalEngine',
    cases: cases.map((c) => summarizeCase(c.baud, c.mode, runs.get(key(c))!)),
  };
}

function summarizeCase(baud: number, mode: InputMode, runs: OneRun[]): WireCase {
  // Each run is judged against its own floor: the bytes vary by a few between runs (DIAG's `ms=`
  // fields report the measured duration of each check, and a late timer can add a digit).
  const critical = (r: OneRun) =>
    mode === 'full-duplex' ? r.floors.criticalPathMs : r.floors.criticalPathUnpacedInputMs;
  const measured = summarize(runs.map((r) => r.measuredMs));
  const ratio = summarize(runs.map((r) => r.measuredMs / r.floors.specFloorMs));
  const ratioCriticalPath = summarize(runs.map((r) => r.measuredMs / critical(r)));
  const mid = [...runs].sort((a, b) => a.measuredMs - b.measuredMs)[Math.floor(runs.length / 2)]!;
  const bytes = runs.map((r) => r.floors.h2tBytes + r.floors.t2hBytes);
  return {
    baud,
    mode,
    measuredMs: roundSummary(measured, 1),
    floors: roundFloors(mid.floors),
    bytesRange: [Math.min(...bytes), Math.max(...bytes)],
    ratio: roundSummary(ratio, 3),
    ratioCriticalPath: roundSummary(ratioCriticalPath, 3),
    overheadPerExchangeMs: round((mid.measuredMs - critical(mid)) / mid.floors.exchanges, 2),
    hostTurnaroundPerExchangeMs: round(mid.hostTurnaroundMs / mid.floors.exchanges, 2),
    ...(mode === 'full-duplex' && { target: WIRE_TARGET, met: ratio.median <= WIRE_TARGET }),
  };
}

function roundFloors(f: Floors): Floors {
  return {
    h2tBytes: f.h2tBytes,
    t2hBytes: f.t2hBytes,
    h2tWireMs: round(f.h2tWireMs, 1),
    t2hWireMs: round(f.t2hWireMs, 1),
    processingMs: f.processingMs,
    rebootMs: f.rebootMs,
    specFloorMs: round(f.specFloorMs, 1),
    criticalPathMs: round(f.criticalPathMs, 1),
    criticalPathUnpacedInputMs: round(f.criticalPathUnpacedInputMs, 1),
    exchanges: f.exchanges,
  };
}

function key(c: { baud: number; mode: InputMode }): string {
  return `${c.baud}/${c.mode}`;
}
