/**
 * docs/performance.md, written from the results by `npm run bench`: the machine, the method, every
 * figure against its target, the charts, and for a target missed what limits it and what would
 * close it. Regenerated on every run, so the prose around the numbers is written to hold for any
 * outcome; the judgements (met, missed, by how much) come from the numbers.
 */
import type { BenchResults, Section } from './run.js';
import type { ScaleResults } from './scale.js';
import type { StackCase, StackResults } from './stack-overhead.js';
import { ALL_OF_MAIN, ALL_PACKAGES, type StartupResults } from './startup.js';
import type { WireCase, WireResults } from './wire-efficiency.js';

const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`;
const ms1 = (v: number) => `${v.toFixed(1)} ms`;
const x = (v: number, digits = 3) => `${v.toFixed(digits)}×`;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**missed**');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function notRun(name: string, section: Section<unknown> | undefined): string | undefined {
  if (!section) return `_Not run yet: \`npm run bench\` (or \`--only ${name}\`) measures it._`;
  if (section.error)
    return `_This benchmark could not run (${section.measuredAt}):_\n\n\`\`\`\n${section.error}\n\`\`\``;
  return undefined;
}

function sectionLine(section: Section<unknown>): string {
  return `_Measured ${section.measuredAt.slice(0, 16).replace('T', ' ')} UTC in ${section.durationS} s; load average ${section.loadAverageAtStart[0]} at the start, ${section.loadAverageAtEnd[0]} at the end._`;
}

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
node bench/.out/bench/run.js --report-only        # redraw the charts and this page from results.json
\`\`\`

It writes \`bench/results.json\` (each figure with its target and whether it was met, each section
with its own time and load average), \`bench/wire-efficiency.svg\`, \`bench/scale.svg\` and this page.
\`--only\` keeps the other sections of the previous results. The benchmarks live in \`bench/\`, compiled
with \`src/\` into \`bench/.out/\` (bench/tsconfig.json); start-up runs the built \`dist/cli/main.js\`.
`);
  out.push(wireSection(r.wireEfficiency));
  out.push(stackSection(r.stackOverhead));
  out.push(scaleSection(r.scale, r.wireEfficiency?.results, r.scaleOverTcp));
  out.push(startupSection(r.startup));
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

function stackSection(section: Section<StackResults> | undefined): string {
  const head = '## 2. Stack overhead\n';
  const missing = notRun('stack', section);
  if (missing) return `${head}\n${missing}\n`;
  const s = section!.results!;
  const get = (t: StackCase['transport']) => s.cases.find((c) => c.transport === t);
  const pty = get('pty');
  const tcp = get('tcp');
  const direct = get('pty-direct-io');
  const inproc = get('in-process');
  const cpu = (v: number | undefined) => (v === undefined ? '—' : `${n0(v)}`);
  const label: Record<StackCase['transport'], string> = {
    pty: 'pty (real serialport binding)',
    tcp: 'tcp://',
    'in-process': 'in-process binding (reference)',
    'pty-direct-io': 'pty, direct I/O (experiment)',
  };
  const rows = s.cases.map((c) => [
    label[c.transport],
    `${n0(c.roundTripsPerSecond.median)} (${n0(c.roundTripsPerSecond.min)}–${n0(c.roundTripsPerSecond.max)})`,
    `${c.roundTripUs.toFixed(0)} µs`,
    cpu(c.hostCpuPerRoundTripUs),
    cpu(c.mockCpuPerRoundTripUs),
    cpu(c.bridgeCpuPerRoundTripUs),
    c.target !== undefined ? `≥ ${n0(c.target)}` : '—',
    verdict(c.met),
  ]);
  const missed = s.cases.filter((c) => c.met === false);
  let closing = '';
  if (pty) {
    const hostOnly = 1e6 / pty.hostCpuPerRoundTripUs;
    closing = `
**What limits it.** A round trip is sequential through every process on its way, so it takes at least
the CPU spent along the path plus the wake-ups between them; on a busy machine each wake-up also waits
for a free core. Over the pty the host's own CPU per round trip is ${n0(pty.hostCpuPerRoundTripUs)} µs${
      tcp
        ? `, against ${n0(tcp.hostCpuPerRoundTripUs)} µs over
TCP for the same Session and TerminalDriver`
        : ''
    }: bindings-cpp does its unix reads and writes with
\`fs.read\`/\`fs.write\` on libuv's thread pool, so a reply costs a read that finds nothing (EAGAIN), a
poll, and a second read, and a request one write: four thread-pool hand-offs, each a futex wake-up
each way. The python bridge adds a process hop in each direction (${cpu(pty.bridgeCpuPerRoundTripUs)} µs) and the mock's own
process ${cpu(pty.mockCpuPerRoundTripUs)} µs; neither exists in front of a real USB serial adapter, where the host's share
alone bounds the rate at about ${n0(hostOnly)} round trips/s on this machine.
${
  missed.length > 0
    ? `
**Missed** over ${missed.map((c) => label[c.transport]).join(' and ')}. What would close it:

- **Readiness-driven I/O in the serial binding.** src/host/ports/guarded-binding.ts already
  re-implements the unix read; reading with \`readSync\` on the non-blocking fd when the poller says
  readable (and writing with \`writeSync\`, waiting for writable on EAGAIN) removes the thread pool from
  the path. bench/lib/direct-io-binding.ts is that change as a prototype${
    direct
      ? `: ${n0(direct.roundTripsPerSecond.median)} round trips/s and
  ${n0(direct.hostCpuPerRoundTripUs)} µs of host CPU per round trip, against ${n0(pty.roundTripsPerSecond.median)} and ${n0(pty.hostCpuPerRoundTripUs)} µs`
      : ''
  }.
- **Measuring on a quiet machine**: every hop above waits for a core when the machine is loaded.
`
    : ''
}
The stack itself is not what limits a terminal: at 115200 baud one STATUS exchange (about 130 bytes)
takes about 11 ms on the wire, fifty times the 200 µs per round trip that 5,000/s allows.
`;
  }
  return `${head}
${sectionLine(section!)}

**What is measured.** Round trips per second of STATUS (what the daemon's heartbeat sends), one
request in flight, through the real Session and TerminalDriver, against an unpaced mock terminal
(baud 0: the wire costs nothing, only software does). Over the **pty** the host uses the real
serialport binding (bindings-cpp, wrapped as in production) on a pseudo-terminal whose other end is
the mock's python3 bridge; over **tcp://** it connects to the mock's TCP listener; in both the mock
runs in a process of its own (bench/mock-farm.ts), as a device would. The **in-process** binding,
with the mock in the same process, is the reference: no kernel, no second process. ${inproc ? '' : ''}After ${s.cases.length > 0 ? String(section!.config.warmup ?? 300) : '300'}
warm-up round trips, ${String(section!.config.windows)} windows of ${String(section!.config.windowMs)} ms per transport, interleaved across transports so
that a change in load touches them alike; median window. CPU time per round trip is this process's
(\`process.cpuUsage\`, all its threads), and the mock's and the bridge's from /proc.

${table(
  [
    'transport',
    'round trips/s, median (min–max)',
    'time per round trip',
    'host CPU µs',
    'mock CPU µs',
    'bridge CPU µs',
    'target',
    '',
  ],
  rows,
)}
${closing}`;
}

function scaleSection(
  section: Section<ScaleResults> | undefined,
  wire: WireResults | undefined,
  tcpSection: Section<ScaleResults> | undefined,
): string {
  const head = '## 3. Scale\n';
  const missing = notRun('scale', section);
  if (missing) return `${head}\n${missing}\n`;
  const s = section!.results!;
  const rows = s.cases.map((c) => [
    String(c.terminals),
    `${ms(c.wallMs.median)} (${n0(c.wallMs.min)}–${n0(c.wallMs.max)})`,
    x(c.wallRatio, 2),
    `${c.peakRssMiB} MiB`,
    `+${c.rssGrowthMiB} MiB`,
    `+${c.heapGrowthMiB} MiB`,
    `${c.heapRetainedMiB >= 0 ? '+' : ''}${c.heapRetainedMiB} MiB`,
    ms(c.cpuMs),
    ms1(c.cpuPerTerminalMs),
    ms(c.mockCpuMs),
    ms(c.bridgesCpuMs),
    ms(c.eventLoopDelayMaxMs),
    c.target !== undefined ? `≤ ${c.target.toFixed(2)}` : '',
    verdict(c.met),
  ]);
  const big = s.cases.at(-1)!;
  const one = s.cases[0]!;
  const critical = wire?.cases.find((c) => c.baud === s.baud && c.mode === 'mock-as-shipped')?.floors
    .criticalPathUnpacedInputMs;
  const totalCpu = big.cpuMs + big.mockCpuMs + big.bridgesCpuMs;
  const cores = 2;
  // The provisioning's exchanges, plus the manager's HELLO and STATUS when it first opens a port.
  const exchanges = (wire?.cases[0]?.floors.exchanges ?? 29) + 2;
  const tcp = tcpSection?.results;
  const tcpBig = tcp?.cases.find((c) => c.terminals === big.terminals);
  const experiment = tcpBig
    ? `
**Experiment: the same terminals on TCP** (no ptys, no python bridges; the mock process and the daemon
unchanged; ${tcp!.reps} runs, load average ${tcpSection!.loadAverageAtStart[0]} at the start): ${big.terminals} terminals take ${ms(tcpBig.wallMs.median)}, ${x(tcpBig.wallRatio, 2)} one terminal,
with ${ms(tcpBig.cpuMs)} of daemon CPU and ${ms(tcpBig.mockCpuMs)} in the mock process. The difference from the pty figures is what the
pseudo-terminals cost on this machine: the bridges' CPU, and the kernel's tty layer, which the daemon
pays in every read(2) and write(2) on a pty (in a CPU profile of the daemon at 64 terminals, taken while
writing this harness, write(2) on the ptys was about a fifth of its time, whether libuv's thread pool
or a direct \`writeSync\` made the call).
`
    : '';
  let closing = '';
  if (big.met === false) {
    closing = `
**Missed** at ${big.terminals} terminals (${x(big.wallRatio, 2)}). In ${ms(big.wallMs.median)} the machine did ${ms(totalCpu)} of CPU
work for this benchmark alone: the daemon ${ms(big.cpuMs)}, the mock terminals ${ms(big.mockCpuMs)} and the python bridges
${ms(big.bridgesCpuMs)}, that is ${pct(totalCpu / (big.wallMs.median * cores))} of two cores, with whatever else the machine ran on top;
the daemon's event loop was at worst ${ms(big.eventLoopDelayMaxMs)} late. Two things add up:

- **The daemon's work is serial and bunched.** It spends ${ms1(big.cpuPerTerminalMs)} of CPU per terminal (about
  ${ms1(big.cpuPerTerminalMs / exchanges)} per exchange) on one event loop. The ${big.terminals} terminals start together and move in step, so the
  exchanges before and after DIAG (about ${critical ? ms(critical - (wire?.cases[0]?.floors.processingMs ?? 0)) : 'a few hundred ms'} of wire per terminal) all queue on that
  one loop at the same moments, while the long DIAG wait in the middle leaves it idle.
- **The test rig shares the two cores.** The terminals' side (${pct((big.mockCpuMs + big.bridgesCpuMs) / totalCpu)} of that CPU) is the rig's,
  not posbridge's: real terminals compute on their own hardware.
${experiment}
What would close it:

- **Less CPU per exchange in the daemon.** Its time goes to the serial I/O (the thread-pool reads and
  writes of section 2, and the pty's kernel path), garbage collection, and decoding and parsing each
  line; every 0.1 ms saved per exchange is about ${ms(big.terminals * exchanges * 0.1)} less queued work at ${big.terminals} terminals.
- **The rig off the daemon's cores**: the mock terminals on another machine (over TCP, as in the
  experiment), or a machine with more cores, so that only the daemon's share competes.
- **A quiet machine**: the run competes with whatever else is running (see the load average).
`;
  } else if (big.met === true) {
    closing = `
**Met** at ${big.terminals} terminals (${x(big.wallRatio, 2)}): the wire and the terminals' processing dominate, as they do on real hardware.
`;
  }
  return `${head}
${sectionLine(section!)}

**What is measured.** ${s.cases.map((c) => c.terminals).join(', ')} factory-new mock terminals provisioned at once (the
provisioning of section 1, each terminal with its own terminal number) by one \`DaemonPortManager\` and a
\`LocalEngine\` whose connections are the manager's leases: the daemon's code path, in which a port named
for the first time is opened and identified (HELLO, STATUS) and then lent. Each terminal sits on its
own pty behind its own python3 bridge, all served by one mock process (bench/mock-farm.ts), paced at
${s.baud} baud with the declared DIAG time (\`diagTimeScale\` ${s.diagTimeScale}), so the wire and the terminals'
processing dominate as on real hardware${critical ? ` (the critical path of one provisioning at ${s.baud} baud is ${ms(critical)})` : ''}.
The ${s.bridges.count} ptys are started before anything is timed (${(s.farmStartMs / 1000).toFixed(1)} s); between runs every terminal is replaced by a
factory-new one. ${s.reps} run${s.reps === 1 ? '' : 's'} per size, sizes interleaved; wall time from the first lease to the last
report, median and min–max. Memory is this process's, sampled every 50 ms: peak RSS and its growth
over the RSS just before the run, from the first repetition, whose sizes go up from 1 (V8 keeps what
it took, so that is the high-water mark of a daemon that has served N terminals; ${s.baselineRssMiB} MiB at rest
after the warm-up); heap growth is the JS heap in use at its peak above the live heap before the run
(after a full GC), and "heap left after" the live heap after the run and a GC minus before: what the
run leaked, if anything (median runs). CPU time is this process's (\`process.cpuUsage\`, all its
threads), the mock process's and the bridges' (from /proc).

${table(
  [
    'terminals',
    'wall time, median (min–max)',
    '/ 1 terminal',
    'peak RSS',
    'RSS growth',
    'heap growth',
    'heap left after',
    'daemon CPU',
    'per terminal',
    'mock CPU',
    'bridges CPU',
    'worst loop delay',
    'target',
    '',
  ],
  rows,
)}

The ${s.bridges.count} python bridges are separate processes: ${s.bridges.rssMiBEach} MiB RSS each, ${s.bridges.rssMiBTotal} MiB in all; the mock
process holding the ${s.bridges.count} terminals ${s.mockProcessRssMiB} MiB. Neither is part of the daemon's figures. One terminal
costs the daemon ${ms1(one.cpuPerTerminalMs)} of CPU; at ${big.terminals}, ${ms1(big.cpuPerTerminalMs)} each (work shared across wake-ups).

![Scale: wall time ratio, memory and CPU against the number of terminals](../bench/scale.svg)
${closing}`;
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
      'else. Every other command still loads the whole import graph first (the table above); loading each ' +
      "command's modules (and zod, yaml, the mock, SQLite) only when that command runs would cut `info` the most.\n";
  }
  return `${head}
${sectionLine(section!)}

**What is measured.** Each command from cold: a new \`node\` process each time (as a person or a script
runs it), \`dist/cli/main.js\` as built by \`npm run build\`, wall time from spawn to exit; ${s.runs} runs of each,
interleaved, after one untimed round (so that every run finds the files in the page cache); median and
min–max. \`node -e 0\` is the floor. \`info --port mock://x\` runs a whole command against the in-process
mock (HELLO, STATUS), with its audit trail in a temporary directory.

${table(['command', 'wall time, median (min–max)', '/ node -e 0', 'target', ''], rows)}

**Where the time goes.** What \`main.js\` imports before commander sees the arguments, each module
imported alone in a fresh process (median of ${String(section!.config.importRuns ?? '')}, time of the \`import()\` only, without Node's
own start); "reached via" is a shortest chain of static imports from main.js.

${table(['module', 'import alone', 'reached via'], imports)}
${closing}`;
}
