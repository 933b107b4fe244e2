/**
 * The benchmark report's reading of its own figures (bench/report-scale-cpu.ts, report-stack.ts):
 * who used the cores at scale and why a size missed; which bare-loop peer the pty target is
 * judged against. Figures made up by hand, so each number in the text can be worked out.
 */
import { describe, expect, it } from 'vitest';
import { burstMs, cpuSplitReason, extraPerStepMs, hasCpuSplit } from '../../bench/report-scale-cpu.js';
import { stackSection } from '../../bench/report-stack.js';
import type { Section } from '../../bench/run.js';
import type { ScaleCase, ScaleResults } from '../../bench/scale.js';
import type { PeerResults, StackResults } from '../../bench/stack-overhead.js';

function scaleCase(terminals: number, wallMs: number, extra: Partial<ScaleCase> = {}): ScaleCase {
  return {
    terminals,
    wallMs: { median: wallMs, min: wallMs, max: wallMs, n: 1, spread: 0 },
    wallRatio: 1,
    peakRssMiB: 60,
    rssGrowthMiB: 1,
    heapGrowthMiB: 1,
    heapRetainedMiB: 0,
    cpuMs: 32 * terminals * 0.2, // 200 µs per exchange
    cpuPerTerminalMs: 6.4,
    mockCpuMs: 32 * terminals * 0.1, // 100 µs per exchange
    bridgesCpuMs: 0,
    exchanges: 32 * terminals,
    cpuPerExchangeUs: 200,
    eventLoopDelayMaxMs: 1,
    eventLoopDelayP99Ms: 1,
    eventLoopDelayMeanMs: 0,
    samplerCpuMs: 1,
    mainThreadCpuMs: 32 * terminals * 0.15,
    machineBusyMs: 0,
    machineTotalMs: wallMs * 2,
    mockLoopP99Ms: 2,
    mockLoopMaxMs: 3,
    ...extra,
  };
}

function scale(cases: ScaleCase[]): ScaleResults {
  return {
    transport: 'tcp',
    baud: 115_200,
    diagTimeScale: 1,
    reps: 1,
    farmStartMs: 1,
    bridges: { count: 0, rssMiBTotal: 0, rssMiBEach: 0 },
    mockProcessRssMiB: 50,
    baselineRssMiB: 60,
    cases,
  };
}

describe('scale: who used the cores', () => {
  // 1 terminal: 1,500 ms; 100 terminals: 1,820 ms, 32 exchanges each: 10 ms more per exchange.
  const one = scaleCase(1, 1500);
  const ours = (c: ScaleCase) => c.cpuMs + 1 + c.mockCpuMs; // daemon, sampler, farm
  const quiet = scaleCase(100, 1820);
  quiet.machineBusyMs = ours(quiet) + 364; // others: 10 % of 2 × 1,820 ms

  it('works out the extra wall time per exchange and the queue a burst forms on each event loop', () => {
    expect(extraPerStepMs(quiet, one)).toBeCloseTo(10, 6);
    expect(burstMs(quiet)).toEqual({ daemon: 20, mock: 10 });
  });

  it('says the cores were not full, and compares half a burst with the measured extra', () => {
    const text = cpuSplitReason(scale([one, quiet]), quiet);
    expect(text).toContain('each exchange of a terminal took 10.0 ms longer than alone');
    expect(text).toContain('The cores were not full on average: this benchmark used 26.4 % of the two');
    expect(text).toContain('the rest of the\nmachine 10.0 %');
    expect(text).toContain('a burst of 100\nis 20.0 ms of work');
    expect(text).toContain('15.0 ms against the 10.0 ms measured');
  });

  it('says the cores were full when this benchmark and the others used 90 % of them', () => {
    const busy = scaleCase(100, 1820);
    busy.machineBusyMs = 0.95 * 2 * 1820;
    const text = cpuSplitReason(scale([one, busy]), busy);
    expect(text).toContain('The two cores were full: this benchmark used 26.4 % of them');
    expect(text).toContain("68.6 % (other people's work)");
  });

  it('has no split for results measured before it existed', () => {
    const old = scaleCase(8, 1600);
    delete old.machineBusyMs;
    expect(hasCpuSplit(scale([one, old]))).toBe(false);
    expect(hasCpuSplit(scale([one, quiet]))).toBe(true);
  });
});

describe('stack overhead: the peers', () => {
  const summary = (median: number) => ({ median, min: median, max: median, n: 5, spread: 0 });
  const peer = (kind: PeerResults['kind'], rate: number, ratio: number, judged: boolean): PeerResults => ({
    kind,
    program: kind === 'c' ? 'cc -O2 bench/peer/bare-loop.c' : 'python3 bench/peer/bare-loop.py',
    roundTripsPerSecond: summary(rate),
    roundTripUs: 1e6 / rate,
    peerCpuPerRoundTripUs: 20,
    mockCpuPerRoundTripUs: 30,
    bridgeCpuPerRoundTripUs: 40,
    ratio: summary(ratio),
    ...(judged && { target: 0.95, met: ratio >= 0.95 }),
  });
  const section: Section<StackResults> = {
    measuredAt: '2026-12-05T04:00:00.000Z',
    loadAverageAtStart: [0.2, 0.2, 0.2],
    loadAverageAtEnd: [0.3, 0.2, 0.2],
    durationS: 20,
    config: { windows: 5, windowMs: 1000, warmup: 300 },
    results: {
      cases: [
        {
          transport: 'pty',
          command: 'STATUS',
          roundTripsPerSecond: summary(7000),
          roundTripUs: 142.9,
          hostCpuPerRoundTripUs: 60,
          mockCpuPerRoundTripUs: 30,
          bridgeCpuPerRoundTripUs: 40,
          target: 5000,
          met: true,
        },
      ],
      peers: [peer('python', 6000, 1.167, true), peer('c', 10_000, 0.7, false)],
    },
  };

  it('judges the target against the Python loop the issue names and shows the C loop for reference', () => {
    const text = stackSection(section);
    expect(text).toContain('**posbridge / the Python loop on the same pty: 1.167×**');
    expect(text).toContain('target ≥ 0.95: met');
    expect(text).toContain('**posbridge / the C loop on the same pty: 0.700×**');
    expect(text).toContain('for reference (no target');
    expect(text).not.toContain('**missed**');
    expect(text).toContain('| pty, Python bare-loop peer (bench/peer/bare-loop.py) | 6,000 (6,000–6,000) |');
  });
});
