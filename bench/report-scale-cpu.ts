/**
 * docs/performance.md, section 3: who used the two cores during the scale runs (the daemon, the
 * mock farm, its python bridges, the rig's memory sampler, the rest of the machine), and what a
 * burst of in-step exchanges costs each event loop, next to the wall time it added.
 */
import { ms, ms1, n0, pct, table } from './report-format.js';
import type { ScaleCase, ScaleResults } from './scale.js';

const CORES = 2;

/** Results written before the split was measured have none of it. */
export function hasCpuSplit(s: ScaleResults): boolean {
  return s.cases.every((c) => c.machineBusyMs !== undefined && c.exchanges > 0);
}

const perExchange = (cpuMs: number, c: ScaleCase) => (cpuMs * 1000) / Math.max(1, c.exchanges);
/** This benchmark's processes: the daemon (with the engine driving it), the sampler, the farm, the bridges. */
const ours = (c: ScaleCase) => c.cpuMs + (c.samplerCpuMs ?? 0) + c.mockCpuMs + c.bridgesCpuMs;
/** Exchanges each terminal made (requests written / terminals). */
const steps = (c: ScaleCase) => c.exchanges / c.terminals;

/** Extra wall time per exchange of one terminal, over the one-terminal run, ms. */
export function extraPerStepMs(c: ScaleCase, one: ScaleCase): number {
  return (c.wallMs.median - one.wallMs.median) / steps(c);
}

/** The queue a burst of N in-step exchanges forms on the daemon's and the farm's event loops, ms. */
export function burstMs(c: ScaleCase): { daemon: number; mock: number } {
  return {
    daemon: (c.terminals * perExchange(c.cpuMs, c)) / 1000,
    mock: (c.terminals * perExchange(c.mockCpuMs, c)) / 1000,
  };
}

export function cpuSplitTable(s: ScaleResults): string {
  const pty = s.transport === 'pty';
  const one = s.cases[0]!;
  const rows = s.cases.map((c) => {
    const wall = c.wallMs.median;
    const machine = c.machineTotalMs && c.machineTotalMs > 0 ? c.machineTotalMs : wall * CORES;
    const burst = burstMs(c);
    return [
      String(c.terminals),
      `${n0(perExchange(c.cpuMs, c))} µs`,
      c.mainThreadCpuMs === undefined ? '—' : `${n0(perExchange(c.mainThreadCpuMs, c))} µs`,
      `${n0(perExchange(c.mockCpuMs, c))} µs`,
      ...(pty ? [`${n0(perExchange(c.bridgesCpuMs, c))} µs`] : []),
      ms1(c.samplerCpuMs ?? 0),
      pct(ours(c) / machine),
      pct(Math.max(0, (c.machineBusyMs ?? 0) - ours(c)) / machine),
      `${ms1(c.mockLoopP99Ms ?? 0)} / ${ms(c.mockLoopMaxMs ?? 0)}`,
      c === one ? '—' : ms1(extraPerStepMs(c, one)),
      `${ms1(burst.daemon)} + ${ms1(burst.mock)}`,
    ];
  });
  return table(
    [
      'terminals',
      'daemon CPU / exchange',
      'of which main thread',
      'mock CPU / exchange',
      ...(pty ? ['bridges CPU / exchange'] : []),
      "rig's memory sampler",
      'this benchmark, of 2 cores',
      'other processes, of 2 cores',
      'mock loop late, p99 / worst',
      'extra wall per exchange',
      'burst: daemon + mock',
    ],
    rows,
  );
}

export function cpuSplitMethod(): string {
  return `**Who used the cores** (median runs): CPU per exchange of the daemon (this process without the rig's
memory sampler, whose CPU, its calls × the main thread's CPU for one, is shown apart; "main
thread" is the daemon's event loop, the rest of its CPU V8's helper threads: concurrent GC, compilers),
of the mock farm's one
process and of the python bridges (from /proc/PID/stat, 10 ms ticks); the share of the two cores
(cores × wall time, from /proc/stat) this benchmark's processes used, and what the rest of the
machine used at the same time (all busy CPU in /proc/stat minus ours: other people's work). "Extra
wall per exchange" is (wall time at N − wall time at 1) / the exchanges each terminal made; "burst"
is the queue N exchanges arriving together form on each event loop: N × the daemon's CPU per
exchange, and N × the mock farm's (its event loop serves every terminal too; its lateness is "mock
loop late").`;
}

/** The measured reason for a miss, from the split; and what would close it. */
export function cpuSplitReason(s: ScaleResults, big: ScaleCase): string {
  const one = s.cases[0]!;
  const machine =
    big.machineTotalMs && big.machineTotalMs > 0 ? big.machineTotalMs : big.wallMs.median * CORES;
  const burst = burstMs(big);
  const extra = extraPerStepMs(big, one);
  const others = Math.max(0, (big.machineBusyMs ?? 0) - ours(big));
  const pty = s.transport === 'pty';
  const rigCpu = big.mockCpuMs + big.bridgesCpuMs + (big.samplerCpuMs ?? 0);
  return `
**The measured reason.** At ${big.terminals} terminals each exchange of a terminal took ${ms1(extra)} longer than alone.
${
  (ours(big) + others) / machine >= 0.9
    ? `The two cores were full: this benchmark used ${pct(ours(big) / machine)} of them and the rest of the machine
${pct(others / machine)} (other people's work), so every wake-up also waited for a core. On top of that,`
    : `The cores were not full on average: this benchmark used ${pct(ours(big) / machine)} of the two and the rest of the
machine ${pct(others / machine)}. The time goes to queues:`
} the terminals move in step, so an exchange's replies arrive
together and wait on two single event loops in turn, the daemon's (${n0(perExchange(big.cpuMs, big))} µs of CPU each: a burst of ${big.terminals}
is ${ms1(burst.daemon)} of work) and the mock farm's (${n0(perExchange(big.mockCpuMs, big))} µs each: ${ms1(burst.mock)}; its loop ran up to
${ms(big.mockLoopMaxMs ?? 0)} late)${pty ? `, with ${big.terminals} python bridges (${n0(perExchange(big.bridgesCpuMs, big))} µs per exchange) competing for the same two cores` : ''}.
A terminal waits on average for half a burst on each loop; ${ms1((burst.daemon + burst.mock) / 2)} against the ${ms1(extra)} measured. Of this
benchmark's CPU, ${pct(rigCpu / Math.max(1, ours(big)))} is the rig's (mock farm${pty ? ', bridges' : ''}, memory sampler), not posbridge's.
What would close it:

- **A farm that costs less per exchange, or is not on the daemon's cores**: a mock farm in C (or several
  farm processes, one per core on a bigger machine${pty ? ', and no python bridge per pty' : ''}) shortens the mock's
  half of every burst; mock terminals on another machine over TCP take it off these two cores entirely.
- **Less CPU per exchange in the daemon**: every 10 µs saved is ${ms1((big.terminals * 10) / 1000)} less per burst of
  ${big.terminals}, about ${ms((big.terminals * 10 * steps(big)) / 2000)} over a provisioning.
- **A quiet machine**: the other processes' share above competes for the same cores.
`;
}
