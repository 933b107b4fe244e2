/**
 * docs/performance.md, written from the results by `npm run bench`: the machine, the method, every
 * figure against its target, the charts, and for a target missed what limits it and what would
 * close it. Regenerated on every run, so the prose around the numbers is written to hold for any
 * outcome; the judgements (met, missed, by how much) come from the numbers.
 */
import { ms, ms1, n0, notRun, pct, sectionLine, table, verdict, x } from './report-format.js';
import { profileSection } from './report-profile.js';
import { scaleSection } from './report-scale.js';
import { stackSection } from './report-stack.js';
import type { BenchResults, Section } from './run.js';
import { ALL_OF_MAIN, ALL_PACKAGES, type StartupResults } from './startup.js';
import type { WireCase, WireResults } from './wire-efficiency.js';

/** How long the benchmarks of these results took, for the "Running it" line. */
function totalNote(r: BenchResults): string {
  const sections = [r.wireEfficiency, r.stackOverhead, r.scale, r.scaleOverTcp, r.startup];
  const seconds = sections.reduce((sum, section) => sum + (section?.durationS ?? 0), 0);
  return seconds > 0 ? ` (${Math.round(seconds / 10) * 10} s here, plus the builds)` : '';
}

export function renderPerformanceDoc(r: BenchResults): string {
  const busy = r.machine.loadAverageAtStart[0] > r.machine.cores * 0.5;
  const out: string[] = [];
  out.push(`# Performance

posbridge's speed is measured against the physical limit (DESIGN.md): the bytes on the wire at the
line rate, plus the terminal's own processing time. This page is written by \`npm run bench\` from
\`bench/results.json\`; every figure, table and chart below comes from that run. Benchmarks report:
they never fail the test suite on a slow machine.

> Figures from ${r.machine.startedAt.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (a **quick** run: fewer repetitions)' : ''}, load average ${r.machine.loadAverageAtStart.join(' / ')} (1/5/15 min) on ${r.machine.cores} cores at the start.${
    busy
      ? `\n> **The machine was busy with other work during this run** (load average ${r.machine.loadAverageAtStart[0]} on ${r.machine.cores} cores): timing figures are pessimistic. Rerun \`npm run bench\` on a quiet machine for the figures that count.`
      : ''
  }

## Summary

${table(
  ['figure', 'measured', 'target', ''],
  r.summary.map((f) => [
    f.figure,
    `${f.value.toLocaleString('en-US')} ${f.unit}`.trim(),
    f.target ?? '—',
    verdict(f.met),
  ]),
)}

## Machine

${table(
  ['', ''],
  [
    ['CPU', r.machine.cpuModel],
    ['cores', String(r.machine.cores)],
    ['memory', `${n0(r.machine.memoryMiB)} MiB`],
    ['OS', r.machine.kernel],
    ['Node', r.machine.node],
    ['load average at start (1/5/15 min)', r.machine.loadAverageAtStart.join(' / ')],
    ['load average at end', r.loadAverageAtEnd.join(' / ')],
  ],
)}

## Running it

\`\`\`sh
npm run bench                                     # build, compile bench/, run all four${totalNote(r)}
node bench/.out/bench/run.js --only wire,startup  # some of them again (after one npm run bench)
node bench/.out/bench/run.js --quick              # a short pass, for working on the harness
npm run bench -- --only scale --profile           # the scale runs plus a CPU profile at 64 terminals
node bench/.out/bench/run.js --report-only        # redraw the charts and this page from results.json
\`\`\`

It writes \`bench/results.json\` (each figure with its target and whether it was met, each section
with its own time and load average), \`bench/wire-efficiency.svg\`, \`bench/scale.svg\` and this page;
with \`--profile\` also \`bench/profile.svg\` (section 5) and the profile itself in \`bench/.out/profile/\`.
\`--only\` keeps the other sections of the previous results. The benchmarks live in \`bench/\`, compiled
with \`src/\` into \`bench/.out/\` (bench/tsconfig.json); start-up runs the built \`dist/cli/main.js\`. A
load average above 1 prints a warning: figures from a busy machine are not the ones that count.
`);
  out.push(wireSection(r.wireEfficiency));
  out.push(stackSection(r.stackOverhead));
  out.push(scaleSection(r.scale, r.wireEfficiency?.results, r.scaleOverTcp));
  out.push(startupSection(r.startup));
  out.push(profileSection(r.profile, r.machine.cores));
  return `${out.join('\n').trimEnd()}\n`;
}

function wireSection(section: Section<WireResults> | undefined): string {
  const head = '## 1. Wire efficiency\n';
  const missing = notRun('wire', section);
  if (missing) return `${head}\n${missing}\n`;
  const w = section!.results!;
  const first = w.cases[0]!;
  const f = first.floors;
  const byBaud = (baud: number, mode: WireCase['mode']) =>
    w.cases.find((c) => c.baud === baud && c.mode === mode);
  const judged = w.cases.filter((c) => c.target !== undefined);
  const missed = judged.filter((c) => !c.met);
  const worst = [...judged].sort((a, b) => b.ratio.median - a.ratio.median)[0];
  const rows = w.cases.map((c) => [
    String(c.baud),
    c.mode === 'full-duplex' ? 'full duplex' : 'mock as shipped',
    ms(c.floors.specFloorMs),
    ms(c.mode === 'full-duplex' ? c.floors.criticalPathMs : c.floors.criticalPathUnpacedInputMs),
    `${ms(c.measuredMs.median)} (${n0(c.measuredMs.min)}–${n0(c.measuredMs.max)})`,
    x(c.ratio.median),
    x(c.ratioCriticalPath.median),
    c.target !== undefined ? `≤ ${c.target}` : 'reference',
    verdict(c.met),
  ]);
  const where = w.cases.map((c) => [
    String(c.baud),
    c.mode === 'full-duplex' ? 'full duplex' : 'mock as shipped',
    ms1(c.overheadPerExchangeMs),
    ms1(c.hostTurnaroundPerExchangeMs),
    ms1(Math.max(0, c.overheadPerExchangeMs - c.hostTurnaroundPerExchangeMs)),
  ]);
  const fast = byBaud(115_200, 'full-duplex');
  const slow = byBaud(9600, 'full-duplex');
  let closing = '';
  if (missed.length > 0 && worst) {
    const excess = worst.overheadPerExchangeMs * worst.floors.exchanges;
    const host = worst.hostTurnaroundPerExchangeMs * worst.floors.exchanges;
    closing = `
**Missed** at ${missed.map((c) => `${c.baud} baud (${x(c.ratio.median)})`).join(' and ')}. At ${worst.baud} baud the run
spends ${ms(excess)} above the critical path over ${worst.floors.exchanges} exchanges: ${ms(host)} of it is the host's
turnaround, the rest (${ms(Math.max(0, excess - host))}) the emulated UARTs' timers. What would close it:

- **The mock's pacing precision** (the larger share, and not the host's): \`Pacer\` (src/mock-device/pacer.ts)
  hands each line over with a \`setTimeout\` rounded up to the next whole millisecond, which Node then
  fires up to about a millisecond late; DIAG's twelve checks are twelve more such timers. Scheduling
  to the millisecond before the due time and finishing with \`setImmediate\` until it is due would take
  most of the ${ms1(Math.max(0, worst.overheadPerExchangeMs - worst.hostTurnaroundPerExchangeMs))} per exchange away. A real UART has no such cost, so
  this part of the excess belongs to the mock, not to posbridge.
- **The host's turnaround** (${ms1(worst.hostTurnaroundPerExchangeMs)} per exchange, ${pct(host / worst.floors.specFloorMs)} of the floor): the
  workflow reads STATUS four times and every setting twice (check, then read-back); folding the
  read-back into fewer requests saves a turnaround and the wire time of each request dropped.
- On a loaded machine both shares grow with the event loop's lateness; the figure that counts is the
  one from a quiet machine.
`;
  } else if (judged.length > 0) {
    closing = `
**Met** at ${judged.map((c) => `${c.baud} baud (${x(c.ratio.median)})`).join(' and ')}; against the critical path, the stricter
figure, ${judged.map((c) => `${x(c.ratioCriticalPath.median)} at ${c.baud}`).join(' and ')}. What is left above it is the overhead per exchange
in the table: the host's turnaround, and the emulated UARTs' millisecond timers (which a real UART
does not have: the mock's \`Pacer\` rounds each delivery up to a whole millisecond).
`;
  }
  return `${head}
${sectionLine(section!)}

**What is measured.** One full provisioning of a factory-new mock terminal (identify, log in, replace
the admin password, bind the numbers, set the clock, four settings of which one is already right,
two operators, the factory operator, all twelve diagnostics, read-back, log out): ${f.exchanges}
request/reply exchanges, ${n0(f.h2tBytes)} bytes host→terminal and ${n0(f.t2hBytes)} bytes terminal→host${bytesNote(w)}. It goes through the
whole host stack (LocalEngine, the workflow, TerminalDriver, Session, SerialPortStream) to the mock
over its in-process serialport binding (the \`mock://\` path), timed from the call to the report, port
open and close included. The mock runs with its declared processing time (\`diagTimeScale\` ${w.diagTimeScale}:
the twelve checks' \`typicalMs\`, ${ms(f.processingMs)} in all); a provisioning does not reboot the
terminal, so no reboot time. A new terminal per run, one warm-up run, ${w.reps} run${w.reps === 1 ? '' : 's'} per case
interleaved; median and min–max.

**The floor** (issue 6) = (bytes host→terminal + bytes terminal→host) × 10 / baud + the terminal's
processing time. Bytes are counted on the terminal's end of the cable (bench/lib/wire.ts keeps their
lengths and verbs, never their content).

**Host→terminal bytes.** The mock paces only its own output: a line it sends is handed to the host
once its last bit would have left at the baud rate (10 bit times per byte), but what the host sends
reaches it at once. Hence two set-ups:

- **full duplex** (judged against the target): the bench paces host→terminal bytes too, with the
  mock's own UART model, so the emulated cable costs in both directions what a real one does, as the
  floor counts it;
- **mock as shipped** (for reference): the host's bytes cost nothing in the run yet stay in the floor,
  as part of the physical limit. Its ratio is flattered by their share of the floor
  (${pct(f.h2tWireMs / f.specFloorMs)} at ${first.baud} baud).

**The critical path.** TSP/1 keeps one request in flight, but during DIAG the terminal sends each
check's DATA line while the next check runs, so the floor's plain sum counts that time twice. The
critical path schedules the same bytes and processing as the protocol allows; it is the true lower
bound of this conversation (${slow ? ms(slow.floors.specFloorMs - slow.floors.criticalPathMs) : '—'} below the floor at 9600 baud,
${fast ? ms(fast.floors.specFloorMs - fast.floors.criticalPathMs) : '—'} at 115200), and measured / critical path is the stricter figure.

${table(
  [
    'baud',
    'set-up',
    'floor',
    'critical path',
    'measured, median (min–max)',
    'measured / floor',
    'measured / critical path',
    'target',
    '',
  ],
  rows,
)}

![Wire efficiency: measured time vs floor at 9600 and 115200 baud](../bench/wire-efficiency.svg)

**Where the time above the critical path goes**, per exchange (median run). The host's turnaround
runs from the last line of a reply reaching the host to its next request leaving it: the serial
stack, parsing, the workflow, encoding. The rest is the emulated wire: each paced line and each DIAG
check is a timer, rounded up to a whole millisecond and fired when the event loop gets to it.

${table(['baud', 'set-up', 'above the critical path', 'host turnaround', 'rest (timers)'], where)}
${closing}`;
}

/** The bytes vary a little between runs: DIAG's `ms=` fields report each check's measured time. */
function bytesNote(w: WireResults): string {
  const lo = Math.min(...w.cases.map((c) => c.bytesRange[0]));
  const hi = Math.max(...w.cases.map((c) => c.bytesRange[1]));
  if (lo === hi) return '';
  return ` (${n0(lo)} to ${n0(hi)} bytes in all over the runs: DIAG's \`ms=\` fields carry each check's measured time; each run is judged against its own floor)`;
}

/** What each eagerly imported package is there for: who would load it on first use. */
const NEEDED_FOR: Record<string, string> = {
  zod: 'needed to validate input at a boundary (a profile, the config, the daemon API)',
  yaml: 'needed to read a YAML profile or config',
  'better-sqlite3': 'needed by commands that write or read the audit trail',
  pino: 'needed once a command creates its logger',
  '@serialport/stream': 'needed when a serial port opens (the native binding is already loaded on use)',
};

/** dist/cli/main.js → ... as the source files a developer edits. */
function srcChain(via: readonly string[]): string {
  return via.map((v) => v.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')).join(' → ');
}

function startupSection(section: Section<StartupResults> | undefined): string {
  const head = '## 4. Start-up\n';
  const missing = notRun('startup', section);
  if (missing) return `${head}\n${missing}\n`;
  const s = section!.results!;
  const floor = s.cases.find((c) => c.command === 'node -e 0');
  const version = s.cases.find((c) => c.command === 'posbridge --version');
  const rows = s.cases.map((c) => [
    `\`${c.command}\``,
    `${ms(c.wallMs.median)} (${n0(c.wallMs.min)}–${n0(c.wallMs.max)})`,
    x(c.ratio, 2),
    c.loaded ? `${n0(c.loaded.modules)} (${n0(c.loaded.kib)} KiB)` : '',
    c.target !== undefined ? `≤ ${c.target}` : '',
    verdict(c.met),
  ]);
  const imports = s.imports.map((i) => [
    i.module.startsWith('(') ? `_${i.module}_` : `\`${i.module}\``,
    ms1(i.importMs),
    i.via.length > 0 ? i.via.map((v) => v.replace(/^dist\//, '')).join(' → ') : '',
  ]);
  const whole = s.imports.find((i) => i.module === ALL_OF_MAIN)?.importMs;
  const packages = s.imports.find((i) => i.module === ALL_PACKAGES)?.importMs;
  const commander = s.imports.find((i) => i.module === 'commander')?.importMs;
  let closing = '';
  const info = s.cases.find((c) => c.command === 'posbridge info --port mock://x');
  const infoLine =
    info?.met === false && info.loaded
      ? `\n**\`info --port mock://x\` missed** (${x(info.ratio, 2)}): it loads ${n0(info.loaded.modules)} modules (${n0(info.loaded.kib)} KiB) as it runs: commander and the options of every command, the engine, the serial stack and the mock terminal, each ES module resolved, read, compiled and linked by Node's loader; no zod, pino, YAML or SQLite (test/e2e/cli-startup-modules.test.ts). What would close it, measured on this machine: each command's action and its helpers imported when that command runs, not when the command line is built (with only \`info\` registered, info loaded 149 modules and 270 ms of CPU against 176 and 310 ms); the mock's fault modules imported by a terminal that has faults (10 modules); \`@serialport/stream\` required as CommonJS (Node 20 scans an imported CommonJS module's source for its exports). Node 22 and 24 cache compiled code (\`module.enableCompileCache\`, on in main.js), which Node 20 cannot.\n`
      : '';
  if (version && floor && version.met === false && whole !== undefined && packages !== undefined) {
    const own = Math.max(0, whole - packages);
    const estimate = floor.wallMs.median + own + (commander ?? 0);
    closing = `
**Missed** (${x(version.ratio, 2)}). \`--version\` is answered by commander, yet \`main.js\` first loads its whole
static import graph: ${s.graph.projectModules} project modules (${s.graph.projectKiB} KiB) and the packages ${s.graph.packages.map((p) => `\`${p}\``).join(', ')}.
Importing all of it costs about ${ms(whole)} in a fresh process; the packages alone ${ms(packages)},
the project's own modules the other ${ms(own)}. What would close it: load each package where it is
used, with \`await import()\` on first use, instead of at the top of the module graph. Each is
reached today through these static imports (first chain found):

${s.imports
  .filter((i) => !i.module.startsWith('(') && !i.module.startsWith('dist/') && i.module !== 'commander')
  .map(
    (i) =>
      `- \`${i.module}\` (${ms1(i.importMs)}), ${NEEDED_FOR[i.module] ?? 'needed by few commands'}: ${srcChain(i.via)}`,
  )
  .join('\n')}
- the mock terminal (${ms1(s.imports.find((i) => i.module === 'dist/mock-device/index.js')?.importMs ?? 0)}), needed only for \`mock://\` ports and \`posbridge mock\`: ${srcChain(s.imports.find((i) => i.module === 'dist/mock-device/index.js')?.via ?? [])}

With only commander left eager and the project's modules as they are, \`--version\` would take about
${ms(estimate)}, ${x(estimate / floor.wallMs.median, 2)} \`node -e 0\` (an estimate from the figures above); splitting program.ts so that
each command's module loads when that command runs would take most of the ${ms(own)} of own modules
away too.
`;
  } else if (version?.met) {
    closing =
      `\n**Met** (${x(version.ratio, 2)}): \`main.js\` answers a lone \`--version\` before it loads anything ` +
      'else. Every other command builds the command line (commander and its own options) and then imports ' +
      "its modules in its action (zod, yaml, the mock, SQLite, the API client only where used): each row above is that command's cost.\n";
  }
  return `${head}
${sectionLine(section!)}

**What is measured.** Each command from cold: a new \`node\` process each time (as a person or a script
runs it), \`dist/cli/main.js\` as built by \`npm run build\`, wall time from spawn to exit; ${s.runs} runs of each,
interleaved, after one untimed round (so that every run finds the files in the page cache); median and
min–max. \`node -e 0\` is the floor. \`info --port mock://x\` runs a whole command against the in-process
mock (HELLO, STATUS), with its audit trail in a temporary directory. **Modules loaded**: the files one
more run of the command loads (ES and CommonJS, project and packages, each once; a module hook counts
them) and their size: what the command costs, whatever the machine's load.

${table(['command', 'wall time, median (min–max)', '/ node -e 0', 'modules loaded', 'target', ''], rows)}
${infoLine}

**Where the time goes.** What \`main.js\` imports before commander sees the arguments, each module
imported alone in a fresh process (median of ${String(section!.config.importRuns ?? '')}, time of the \`import()\` only, without Node's
own start); "reached via" is a shortest chain of static imports from main.js.

${table(['module', 'import alone', 'reached via'], imports)}
${closing}`;
}
