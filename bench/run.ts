/**
 * `npm run bench`: runs the four benchmarks of issue 6 and writes
 *   bench/results.json         every figure, with its target and whether it was met
 *   bench/wire-efficiency.svg  measured vs floor at 9600 and 115200 baud
 *   bench/scale.svg            wall time ratio, memory and CPU vs terminal count
 *   docs/performance.md        the write-up (machine, method, figures, what limits them)
 *
 * Benchmarks report; they never fail on a slow machine. The exit status is non-zero only when a
 * benchmark could not run at all (e.g. no python3 for the ptys).
 *
 *   node bench/.out/bench/run.js [--only wire,stack,scale,startup] [--quick] [--report-only]
 *
 * --only runs some and keeps the other sections of an existing results.json (each section records
 * its own time and load average). --quick shortens every benchmark (for developing the harness).
 * --report-only measures nothing: it redraws the charts and docs/performance.md from results.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scaleChart, wireChart } from './charts.js';
import { loadAverage, type MachineInfo, machineInfo } from './lib/machine.js';
import { renderPerformanceDoc } from './report.js';
import type { ScaleResults } from './scale.js';
import type { StackResults } from './stack-overhead.js';
import type { StartupResults } from './startup.js';
import type { WireResults } from './wire-efficiency.js';

// Compiled to bench/.out/bench/run.js: the project root is three levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RESULTS = path.join(ROOT, 'bench/results.json');

export type SectionName = 'wire' | 'stack' | 'scale' | 'startup';
const ALL: SectionName[] = ['wire', 'stack', 'scale', 'startup'];

export interface Section<T> {
  measuredAt: string;
  loadAverageAtStart: [number, number, number];
  loadAverageAtEnd: [number, number, number];
  durationS: number;
  config: Record<string, unknown>;
  results?: T;
  error?: string;
}

export interface SummaryFigure {
  figure: string;
  value: number;
  unit: string;
  target?: string;
  met?: boolean;
}

export interface BenchResults {
  schema: 1;
  command: string;
  quick: boolean;
  machine: MachineInfo;
  loadAverageAtEnd: [number, number, number];
  summary: SummaryFigure[];
  wireEfficiency?: Section<WireResults>;
  stackOverhead?: Section<StackResults>;
  scale?: Section<ScaleResults>;
  /** Experiment: the same with the terminals on TCP (no ptys, no python bridges). */
  scaleOverTcp?: Section<ScaleResults>;
  startup?: Section<StartupResults>;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
});
const reportOnly = values['report-only'] ?? false;
const only = reportOnly
  ? []
  : values.only
    ? (values.only.split(',').map((s) => s.trim()) as SectionName[])
    : ALL;
for (const name of only)
  if (!ALL.includes(name)) throw new Error(`--only: unknown benchmark ${name} (${ALL.join(', ')})`);
const quick = values.quick ?? false;
const log = (line: string) => process.stdout.write(`${line}\n`);

const previous: Partial<BenchResults> =
  only.length < ALL.length && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
if (reportOnly && !previous.machine) throw new Error(`--report-only: no ${RESULTS} to report from`);
// Re-drawing from old results keeps the machine and load of the run that measured them.
const machine = reportOnly ? previous.machine! : machineInfo();
log(`posbridge benchmarks on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}`);
log(`load average at start: ${machine.loadAverageAtStart.join(' ')}${quick ? '  (quick run)' : ''}`);

let failed = false;

/** Runs one benchmark in a fresh process (section.ts) and reads back its results. */
function inChild<T>(name: SectionName, config: Record<string, unknown>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'posbridge-bench-'));
  const out = path.join(dir, 'results.json');
  const script = fileURLToPath(new URL('./section.js', import.meta.url));
  return new Promise<T>((resolve, reject) => {
    // --expose-gc: the scale benchmark collects garbage before and after each run to measure memory.
    const child = spawn(process.execPath, ['--expose-gc', script, name, JSON.stringify(config), out], {
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`the ${name} benchmark exited with ${signal ?? `code ${code}`}`);
        resolve(JSON.parse(readFileSync(out, 'utf8')) as T);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

async function section<T>(
  name: SectionName,
  title: string,
  config: Record<string, unknown>,
): Promise<Section<T>> {
  log(`\n== ${title}`);
  const loadAverageAtStart = loadAverage();
  const measuredAt = new Date().toISOString();
  const started = performance.now();
  const done = (extra: { results?: T; error?: string }): Section<T> => ({
    measuredAt,
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
    durationS: Math.round((performance.now() - started) / 100) / 10,
    config,
    ...extra,
  });
  try {
    return done({ results: await inChild<T>(name, config) });
  } catch (error) {
    failed = true;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`  FAILED TO RUN: ${message}`);
    return done({ error: message.split('\n').slice(0, 4).join('\n') });
  }
}

const results: BenchResults = {
  schema: 1,
  command: 'npm run bench',
  quick: reportOnly ? (previous.quick ?? false) : quick,
  machine,
  loadAverageAtEnd: machine.loadAverageAtStart,
  summary: [],
  ...(previous.wireEfficiency && { wireEfficiency: previous.wireEfficiency }),
  ...(previous.stackOverhead && { stackOverhead: previous.stackOverhead }),
  ...(previous.scale && { scale: previous.scale }),
  ...(previous.scaleOverTcp && { scaleOverTcp: previous.scaleOverTcp }),
  ...(previous.startup && { startup: previous.startup }),
};

if (only.includes('wire')) {
  const config = {
    bauds: [9600, 115_200],
    reps: quick ? 2 : 5,
    diagTimeScale: 1,
    modes: ['full-duplex', 'mock-as-shipped'],
  };
  results.wireEfficiency = await section<WireResults>('wire', '1. wire efficiency', config);
}
if (only.includes('stack')) {
  const config = {
    transports: ['pty', 'tcp', 'in-process', 'pty-direct-io'],
    windows: quick ? 2 : 5,
    windowMs: quick ? 500 : 1000,
    warmup: 300,
  };
  results.stackOverhead = await section<StackResults>('stack', '2. stack overhead', config);
}
if (only.includes('scale')) {
  const config = {
    sizes: quick ? [1, 8] : [1, 8, 32, 64],
    reps: quick ? 1 : 3,
    baud: 115_200,
    diagTimeScale: 1,
  };
  results.scale = await section<ScaleResults>('scale', '3. scale', config);
  const tcp = { ...config, sizes: [1, Math.max(...config.sizes)], transport: 'tcp' };
  results.scaleOverTcp = await section<ScaleResults>('scale', '3b. scale, experiment: terminals on TCP', tcp);
}
if (only.includes('startup')) {
  const config = { runs: quick ? 3 : 10, importRuns: quick ? 1 : 5 };
  results.startup = await section<StartupResults>('startup', '4. start-up', config);
}

results.loadAverageAtEnd = reportOnly
  ? (previous.loadAverageAtEnd ?? machine.loadAverageAtStart)
  : loadAverage();
results.summary = summarize(results);
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

const loadNote = (s: Section<unknown> | undefined) =>
  s ? `Load average at start ${s.loadAverageAtStart[0]} on ${results.machine.cores} cores.` : '';
if (results.wireEfficiency?.results) {
  writeFileSync(
    path.join(ROOT, 'bench/wire-efficiency.svg'),
    wireChart(results.wireEfficiency.results, loadNote(results.wireEfficiency)),
  );
}
if (results.scale?.results) {
  writeFileSync(
    path.join(ROOT, 'bench/scale.svg'),
    scaleChart(results.scale.results, loadNote(results.scale), results.scaleOverTcp?.results),
  );
}
writeFileSync(path.join(ROOT, 'docs/performance.md'), renderPerformanceDoc(results));

log('\n== summary');
for (const f of results.summary) {
  const verdict = f.met === undefined ? '' : f.met ? '  met' : '  MISSED';
  log(`  ${f.figure}: ${f.value} ${f.unit}${f.target ? `  (target ${f.target})` : ''}${verdict}`);
}
log(`\nload average at end: ${results.loadAverageAtEnd.join(' ')}`);
log('wrote bench/results.json, bench/wire-efficiency.svg, bench/scale.svg, docs/performance.md');
process.exitCode = failed ? 1 : 0;

function summarize(r: BenchResults): SummaryFigure[] {
  const out: SummaryFigure[] = [];
  for (const c of r.wireEfficiency?.results?.cases ?? []) {
    out.push({
      figure: `wire efficiency ${c.baud} baud, ${c.mode} (measured / floor)`,
      value: c.ratio.median,
      unit: '×',
      ...(c.target !== undefined && { target: `≤ ${c.target}`, met: c.met }),
    });
  }
  for (const c of r.stackOverhead?.results?.cases ?? []) {
    out.push({
      figure: `stack overhead, STATUS round trips over ${c.transport}${c.transport === 'pty-direct-io' ? ' (experiment)' : c.transport === 'in-process' ? ' (reference)' : ''}`,
      value: c.roundTripsPerSecond.median,
      unit: '/s',
      ...(c.target !== undefined && { target: `≥ ${c.target}`, met: c.met }),
    });
  }
  for (const c of r.scale?.results?.cases ?? []) {
    out.push({
      figure: `scale, ${c.terminals} terminal${c.terminals === 1 ? '' : 's'}: wall time / 1 terminal`,
      value: c.wallRatio,
      unit: '×',
      ...(c.target !== undefined && { target: `≤ ${c.target}`, met: c.met }),
    });
  }
  const big = r.scale?.results?.cases.at(-1);
  if (big)
    out.push({
      figure: `scale, ${big.terminals} terminals: peak RSS of the daemon`,
      value: big.peakRssMiB,
      unit: 'MiB',
    });
  for (const c of r.startup?.results?.cases ?? []) {
    if (c.command === 'node -e 0') continue;
    out.push({
      figure: `start-up, ${c.command} (/ node -e 0)`,
      value: c.ratio,
      unit: '×',
      ...(c.target !== undefined && { target: `≤ ${c.target}`, met: c.met }),
    });
  }
  return out;
}
