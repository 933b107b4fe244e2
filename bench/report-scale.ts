/** docs/performance.md, section 3: scale, terminals on ptys and on TCP. */
import { ms, ms1, n0, notRun, pct, sectionLine, table, verdict, x } from './report-format.js';
import { cpuSplitMethod, cpuSplitReason, cpuSplitTable, hasCpuSplit } from './report-scale-cpu.js';
import type { Section } from './run.js';
import type { ScaleCase, ScaleResults } from './scale.js';
import type { WireResults } from './wire-efficiency.js';

function rows(s: ScaleResults): string[][] {
  const pty = s.transport === 'pty';
  return s.cases.map((c) => [
    String(c.terminals),
    `${ms(c.wallMs.median)} (${n0(c.wallMs.min)}–${n0(c.wallMs.max)})`,
    x(c.wallRatio, 2),
    `${c.peakRssMiB} MiB${c.peakRssMet === undefined ? '' : ` (≤ ${c.peakRssTargetMiB}: ${verdict(c.peakRssMet)})`}`,
    `+${c.heapGrowthMiB} / ${c.heapRetainedMiB >= 0 ? '+' : ''}${c.heapRetainedMiB} MiB`,
    ms(c.cpuMs),
    c.cpuPerExchangeUs === undefined ? '—' : `${n0(c.cpuPerExchangeUs)} µs`,
    ms(c.mockCpuMs),
    ...(pty ? [ms(c.bridgesCpuMs)] : []),
    c.eventLoopDelayP99Ms === undefined
      ? ms(c.eventLoopDelayMaxMs)
      : `${ms1(c.eventLoopDelayP99Ms)} / ${ms(c.eventLoopDelayMaxMs)}`,
    c.target !== undefined ? `≤ ${c.target.toFixed(2)}` : '',
    verdict(c.met),
  ]);
}

function head(s: ScaleResults): string[] {
  return [
    'terminals',
    'wall time, median (min–max)',
    '/ 1 terminal',
    'peak RSS',
    'heap growth / left after',
    'daemon CPU',
    'per exchange',
    'mock CPU',
    ...(s.transport === 'pty' ? ['bridges CPU'] : []),
    'loop late, p99 / worst',
    'target',
    '',
  ];
}

export function scaleSection(
  section: Section<ScaleResults> | undefined,
  wire: WireResults | undefined,
  tcpSection: Section<ScaleResults> | undefined,
): string {
  const title = '## 3. Scale\n';
  const missing = notRun('scale', section);
  if (missing) return `${title}\n${missing}\n`;
  const s = section!.results!;
  const big = s.cases.at(-1)!;
  const one = s.cases[0]!;
  const critical = wire?.cases.find((c) => c.baud === s.baud && c.mode === 'mock-as-shipped')?.floors
    .criticalPathUnpacedInputMs;
  const tcp = tcpSection?.results;
  return `${title}
${sectionLine(section!)}

**What is measured.** ${s.cases.map((c) => c.terminals).join(', ')} factory-new mock terminals on ptys${tcp ? `, and ${tcp.cases.map((c) => c.terminals).join(', ')} on TCP,` : ''} provisioned at once (the
provisioning of section 1, each terminal with its own terminal number) by one \`DaemonPortManager\` and a
\`LocalEngine\` whose connections are the manager's leases: the daemon's code path, in which a port named
for the first time is opened and identified (HELLO, STATUS) and then lent. On ptys each terminal sits
behind its own python3 bridge; on TCP each has its own listener (no bridges, so the rig leaves the two
cores to the daemon and the mock); all are served by one mock process (bench/mock-farm.ts), paced at
${s.baud} baud with the declared DIAG time (\`diagTimeScale\` ${s.diagTimeScale}), so the wire and the terminals'
processing dominate as on real hardware${critical ? ` (the critical path of one provisioning at ${s.baud} baud is ${ms(critical)})` : ''}.
The terminals are started before anything is timed (${s.bridges.count} ptys in ${(s.farmStartMs / 1000).toFixed(1)} s); between runs every terminal
is replaced by a factory-new one. ${s.reps} run${s.reps === 1 ? '' : 's'} per size, sizes interleaved; wall time from the first lease to the
last report, median and min–max. Memory is this process's, sampled every 50 ms: peak RSS from the first
repetition, whose sizes go up from 1 (V8 keeps what it took, so that is the high-water mark of a daemon
that has served N terminals; ${s.baselineRssMiB} MiB at rest after the warm-up); heap growth is the JS heap in use at its
peak above the live heap before the run (after a full GC), "left after" the live heap after the run and
a GC minus before (median runs). CPU time is this process's (\`process.cpuUsage\`, all its threads, without
the rig's memory sampler); per
exchange it is divided by the requests written (counted at the transport: ${one.exchanges ?? '—'} for one terminal,
HELLO and STATUS on opening included; at one terminal the fixed costs of a run, timers, the memory
sampler and V8's background threads, weigh on that figure, at many they are shared). "Loop late" is how late this process's event loop ran timers
during the run (\`monitorEventLoopDelay\`, 99th percentile and worst): the lateness every terminal's
next exchange waits for.

**Terminals on ptys** (the mock's python bridges: ${s.bridges.rssMiBEach} MiB RSS each, ${s.bridges.rssMiBTotal} MiB in all; the mock process ${s.mockProcessRssMiB} MiB;
neither is part of the daemon's figures):

${table(head(s), rows(s))}
${hasCpuSplit(s) ? `\n${cpuSplitMethod()}\n\n${cpuSplitTable(s)}\n` : ''}${
  tcp
    ? `
**Terminals on TCP** (${tcp.reps} run${tcp.reps === 1 ? '' : 's'} per size; load average ${tcpSection!.loadAverageAtStart[0]} at the start; the mock process holding ${tcp.cases.at(-1)!.terminals} terminals ${tcp.mockProcessRssMiB} MiB):

${table(head(tcp), rows(tcp))}
${hasCpuSplit(tcp) ? `\n${cpuSplitTable(tcp)}\n` : ''}`
    : ''
}
![Scale: wall time ratio, memory and CPU per exchange against the number of terminals](../bench/scale.svg)
${judgement(s, big, wire, 'pty')}${tcp ? judgement(tcp, tcp.cases.at(-1)!, wire, 'tcp') : ''}`;
}

function judgement(
  s: ScaleResults,
  big: ScaleCase,
  wire: WireResults | undefined,
  where: 'pty' | 'tcp',
): string {
  const on = where === 'pty' ? 'ptys' : 'TCP';
  const judged = s.cases.find((c) => c.target !== undefined);
  if (!judged) return '';
  const rss =
    judged.peakRssMet === false
      ? `; peak RSS ${judged.peakRssMiB} MiB over ${judged.peakRssTargetMiB} MiB`
      : '';
  if (judged.met && judged.peakRssMet !== false) {
    return `
**Met on ${on}** at ${judged.terminals} terminals (${x(judged.wallRatio, 2)}${judged.peakRssMet ? `, peak RSS ${judged.peakRssMiB} MiB` : ''}): the wire and the terminals' processing
dominate, as they do on real hardware.
`;
  }
  if (hasCpuSplit(s)) {
    return `
**Missed on ${on}** at ${judged.terminals} terminals (${x(judged.wallRatio, 2)}${rss}).
${cpuSplitReason(s, big)}`;
  }
  const cores = 2;
  const totalCpu = big.cpuMs + big.mockCpuMs + big.bridgesCpuMs;
  const exchanges = big.exchanges ?? ((wire?.cases[0]?.floors.exchanges ?? 29) + 2) * big.terminals;
  const perExchange = big.cpuPerExchangeUs ?? (big.cpuMs * 1000) / exchanges;
  return `
**Missed on ${on}** at ${judged.terminals} terminals (${x(judged.wallRatio, 2)}${rss}). In ${ms(big.wallMs.median)} at ${big.terminals} terminals the
machine did ${ms(totalCpu)} of CPU work for this benchmark alone: the daemon ${ms(big.cpuMs)}, the mock terminals
${ms(big.mockCpuMs)}${where === 'pty' ? ` and the python bridges ${ms(big.bridgesCpuMs)}` : ''}, that is ${pct(totalCpu / (big.wallMs.median * cores))} of two cores, with whatever else the machine ran
on top; the daemon's event loop was at worst ${ms(big.eventLoopDelayMaxMs)} late. The terminals start together and move
in step, so their exchanges queue on the daemon's one event loop at the same moments: ${n0(exchanges)} exchanges
at ${n0(perExchange)} µs of daemon CPU each. What would close it:

- **Less CPU per exchange in the daemon** (section 5 shows where it goes): every 10 µs saved per exchange
  is about ${ms((exchanges * 10) / 1000)} less queued work at ${big.terminals} terminals.
- **The rig off the daemon's cores**: the mock terminals (${pct((big.mockCpuMs + big.bridgesCpuMs) / Math.max(1, totalCpu))} of that CPU) are the rig's,
  not posbridge's: real terminals compute on their own hardware. A machine with more cores, or the
  mock farm on another machine over TCP, leaves only the daemon's share competing.
- **A quiet machine**: the run competes with whatever else is running (see the load average).
`;
}
