/**
 * `npm run bench`: runs the four benchmarks of issue 6 and writes
 *   bench/results.json         every figure, with its target and whether it was met
 *   bench/wire-efficiency.svg  measured vs floor at 9600 and 115200 baud
 *   bench/scale.svg            wall time ratio, memory and CPU vs terminal count
 *   bench/profile.svg          with --profile: a flame graph of the daemon at 64 terminals
 *   docs/performance.md        the write-up (machine, method, figures, what limits them)
 *
 * Benchmarks report; they never fail on a slow machine. The exit status is non-zero only when a
 * benchmark could not run at all (e.g. no python3 for the ptys).
 *
 *   node bench/.out/bench/run.js [--only wire,stack,scale,startup] [--quick] [--profile] [--report-only]
 *
 * --only runs some and keeps the other sections of an existing results.json (each section records
 * its own time and load average). --quick shortens every benchmark (for developing the harness).
 * --profile adds one run of the largest pty size of the scale benchmark (64 terminals) recorded as
 * a CPU profile (bench/.out/profile/scale-64.cpuprofile), drawn as bench/profile.svg and summed up
 * in docs/performance.md. --report-only measures nothing: it redraws the charts and
 * docs/performance.md from results.json.
 *
 * A load average above 1 at the start of a section prints a warning: the figures that count come
 * from a quiet machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scaleChart, wireChart } from './charts.js';
import { type CpuProfile, summarizeProfile } from './lib/cpuprofile.js';
import { flameGraph } from './lib/flamegraph.js';
import { loadAverage, type MachineInfo, machineInfo } from './lib/machine.js';
import { renderPerformanceDoc } from './report.js';
import type { ProfileSection } from './report-profile.js';
import type { ScaleResults } from './scale.js';
import type { StackResults } from './stack-overhead.js';
import type { StartupResults } from './startup.js';
import type { WireResults } from './wire-efficiency.js';

// Compiled to bench/.out/bench/run.js: the project root is three levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RESULTS = path.join(ROOT, 'bench/results.json');
const PROFILE_DIR = path.join(ROOT, 'bench/.out/profile');

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
  /** The same with the terminals on TCP (no ptys, no python bridges), up to 256. */
  scaleOverTcp?: Section<ScaleResults>;
  startup?: Section<StartupResults>;
  /** The CPU profile of the daemon at 64 terminals (--profile). */
  profile?: ProfileSection;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
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
const profile = values.profile ?? false;
if (profile && !reportOnly && !only.includes('scale'))
  throw new Error('--profile profiles the scale benchmark: run it too (--only scale)');
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Timing figures from a busy machine are not the ones that count: say so where they are made. */
function warnIfBusy(where: string, load: [number, number, number]): void {
  if (load[0] <= 1) return;
  log(
    `  WARNING: load average ${load[0]} (above 1) ${where}: other work competes for the cores; these figures are not for the record (rerun on a quiet machine)`,
  );
}

const previous: Partial<BenchResults> =
  only.length < ALL.length && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
if (reportOnly && !previous.machine) throw new Error(`--report-only: no ${RESULTS} to report from`);
// Re-drawing from old results keeps the machine and load of the run that measured them.
const machine = reportOnly ? previous.machine! : machineInfo();
log(`posbridge benchmarks on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}`);
log(`load average at start: ${machine.loadAverageAtStart.join(' ')}${quick ? '  (quick run)' : ''}`);
if (!reportOnly) warnIfBusy('at the start', machine.loadAverageAtStart);

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
  warnIfBusy(`at the start of ${title}`, loadAverageAtStart);
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
  ...(previous.profile && !(only.includes('scale') && profile) && { profile: previous.profile }),
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
    transports: ['pty', 'tcp', 'in-process'],
    peers: ['python', 'c'],
    windows: quick ? 2 : 5,
    windowMs: quick ? 500 : 1000,
    warmup: 300,
  };
  results.stackOverhead = await section<StackResults>('stack', '2. stack overhead', config);
}
if (only.includes('scale')) {
  const sizes = quick ? [1, 8] : [1, 8, 32, 64];
  const biggest = Math.max(...sizes);
  const config = {
    sizes,
    reps: quick ? 1 : 3,
    baud: 115_200,
    diagTimeScale: 1,
    ...(profile && {
      profile: { terminals: biggest, file: path.join(PROFILE_DIR, `scale-${biggest}.cpuprofile`) },
    }),
  };
  results.scale = await section<ScaleResults>('scale', '3. scale, terminals on ptys', config);
  const tcp = { ...config, sizes: quick ? [1, 8, 32] : [1, 8, 32, 64, 128, 256], transport: 'tcp' };
  delete (tcp as { profile?: unknown }).profile;
  results.scaleOverTcp = await section<ScaleResults>('scale', '3b. scale, terminals on TCP', tcp);
  const profiled = results.scale.results?.profile;
  if (profiled) results.profile = profileSection(profiled, results.scale);
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
if (results.profile && !reportOnly && profile) {
  const data = JSON.parse(readFileSync(path.join(ROOT, results.profile.file), 'utf8')) as CpuProfile;
  writeFileSync(
    path.join(ROOT, 'bench/profile.svg'),
    flameGraph(data, {
      title: `The daemon provisioning ${results.profile.terminals} terminals on ptys: CPU profile (flame graph)`,
      note: `${results.profile.busyMs.toFixed(0)} ms busy of ${results.profile.durationMs.toFixed(0)} ms; load average ${results.profile.loadAverage[0]} on ${results.machine.cores} cores. Width: time on the stack. Hover a box for its times.`,
    }),
  );
}
writeFileSync(path.join(ROOT, 'docs/performance.md'), renderPerformanceDoc(results));

log('\n== summary');
for (const f of results.summary) {
  const verdict = f.met === undefined ? '' : f.met ? '  met' : '  MISSED';
  log(`  ${f.figure}: ${f.value} ${f.unit}${f.target ? `  (target ${f.target})` : ''}${verdict}`);
}
log(`\nload average at end: ${results.loadAverageAtEnd.join(' ')}`);
log(
  `wrote bench/results.json, bench/wire-efficiency.svg, bench/scale.svg${results.profile && profile ? `, bench/profile.svg, ${results.profile.file}` : ''}, docs/performance.md`,
);
process.exitCode = failed ? 1 : 0;

/** The profile's summary for results.json and the report (the flame graph is drawn from the file). */
function profileSection(
  profiled: NonNullable<ScaleResults['profile']>,
  scale: Section<ScaleResults>,
): ProfileSection {
  const file = path.relative(ROOT, profiled.file);
  const summary = summarizeProfile(JSON.parse(readFileSync(profiled.file, 'utf8')) as CpuProfile);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const share = (v: number) => Math.round(v * 1000) / 1000;
  return {
    measuredAt: scale.measuredAt,
    loadAverage: scale.loadAverageAtEnd,
    terminals: profiled.terminals,
    file,
    wallMs: profiled.wallMs,
    exchanges: profiled.exchanges,
    durationMs: round1(summary.durationMs),
    busyMs: round1(summary.busyMs),
    idleMs: round1(summary.idleMs),
    byKind: summary.byKind.map((k) => ({ kind: k.kind, selfMs: round1(k.selfMs), share: share(k.share) })),
    functions: summary.functions.slice(0, 30).map((f) => ({
      label: f.label,
      kind: f.kind,
      selfMs: round1(f.selfMs),
      totalMs: round1(f.totalMs),
      selfShare: share(f.selfShare),
      totalShare: share(f.totalShare),
    })),
    // What the project's own code costs, callees included: where a change would land.
    ownFunctions: summary.functions
      .filter((f) => f.kind === 'project')
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 15)
      .map((f) => ({
        label: f.label,
        kind: f.kind,
        selfMs: round1(f.selfMs),
        totalMs: round1(f.totalMs),
        selfShare: share(f.selfShare),
        totalShare: share(f.totalShare),
      })),
  };
}

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
      figure: `stack overhead, STATUS round trips over ${c.transport}${c.transport === 'in-process' ? ' (reference)' : ''}`,
      value: c.roundTripsPerSecond.median,
      unit: '/s',
      ...(c.target !== undefined && { target: `≥ ${c.target}`, met: c.met }),
    });
  }
  for (const peer of r.stackOverhead?.results?.peers ?? []) {
    const name = peer.kind === 'python' ? 'Python' : 'C';
    out.push({
      figure: `stack overhead, STATUS round trips of the ${name} bare-loop peer on the same pty`,
      value: peer.roundTripsPerSecond.median,
      unit: '/s',
    });
    out.push({
      figure: `stack overhead, posbridge / ${name} bare-loop peer on the same pty (interleaved windows)${peer.target === undefined ? ', for reference' : ''}`,
      value: peer.ratio.median,
      unit: '×',
      ...(peer.target !== undefined && { target: `≥ ${peer.target}`, met: peer.met }),
    });
  }
  for (const [where, s] of [
    ['ptys', r.scale],
    ['TCP', r.scaleOverTcp],
  ] as const) {
    const cases = s?.results?.cases ?? [];
    for (const c of cases) {
      if (c.terminals === 1) continue;
      out.push({
        figure: `scale on ${where}, ${c.terminals} terminals: wall time / 1 terminal`,
        value: c.wallRatio,
        unit: '×',
        ...(c.target !== undefined && { target: `≤ ${c.target}`, met: c.met }),
      });
    }
    const big = cases.at(-1);
    // Results written before issue 12 have no CPU per exchange.
    if (big?.cpuPerExchangeUs !== undefined) {
      out.push({
        figure: `scale on ${where}, ${big.terminals} terminals: daemon CPU per exchange`,
        value: big.cpuPerExchangeUs,
        unit: 'µs',
      });
    }
    if (big) {
      out.push({
        figure: `scale on ${where}, ${big.terminals} terminals: peak RSS of the daemon`,
        value: big.peakRssMiB,
        unit: 'MiB',
        ...(big.peakRssTargetMiB !== undefined && {
          target: `≤ ${big.peakRssTargetMiB}`,
          met: big.peakRssMet,
        }),
      });
    }
  }
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
