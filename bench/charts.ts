/** The two figures docs/performance.md shows, drawn from the results. */

import { barPanel, COLORS, figure, linePanel } from './lib/svg.js';
import type { ScaleResults } from './scale.js';
import type { WireResults } from './wire-efficiency.js';

export function scaleChart(scale: ScaleResults, loadNote: string, overTcp?: ScaleResults): string {
  const n = scale.cases.map((c) => c.terminals);
  const box = { width: 380, height: 290 };
  const ratio = linePanel(box, {
    title: 'Wall time relative to one terminal',
    xLabel: 'terminals provisioned at once',
    yLabel: 'wall time / wall time of 1',
    x: n,
    log2: true,
    series: [
      {
        name: 'ptys (the benchmark)',
        values: scale.cases.map((c) => c.wallRatio),
        color: COLORS.blue,
        labels: true,
        unit: '×',
      },
      ...(overTcp
        ? [
            {
              name: 'TCP terminals (experiment)',
              values: n.map((k) => overTcp.cases.find((c) => c.terminals === k)?.wallRatio ?? Number.NaN),
              color: COLORS.grey,
              dashed: true,
              labels: true,
              unit: '×',
            },
          ]
        : []),
    ],
    marks: [{ y: 1.1, label: 'target ≤ 1.10 at 64', color: COLORS.red }],
    yMin: Math.min(0.8, ...scale.cases.map((c) => c.wallRatio - 0.1)),
    yMax: Math.max(1.4, ...scale.cases.map((c) => c.wallRatio * 1.12)),
  });
  const memory = linePanel(box, {
    title: 'Peak memory of the daemon process',
    xLabel: 'terminals provisioned at once',
    yLabel: 'RSS, MiB',
    x: n,
    log2: true,
    series: [
      { name: 'peak RSS', values: scale.cases.map((c) => c.peakRssMiB), color: COLORS.green, labels: true },
      {
        name: 'RSS before the run',
        values: scale.cases.map(() => scale.baselineRssMiB),
        color: COLORS.grey,
        dashed: true,
      },
    ],
    yMin: 0,
  });
  const cpu = linePanel(box, {
    title: 'CPU time during the run',
    xLabel: 'terminals provisioned at once',
    yLabel: 'CPU time, ms',
    x: n,
    log2: true,
    series: [
      {
        name: 'daemon (this process)',
        values: scale.cases.map((c) => c.cpuMs),
        color: COLORS.blue,
        labels: true,
      },
      {
        name: 'mock terminals (1 process)',
        values: scale.cases.map((c) => c.mockCpuMs),
        color: COLORS.orange,
      },
      { name: 'python pty bridges', values: scale.cases.map((c) => c.bridgesCpuMs), color: COLORS.purple },
    ],
    yMin: 0,
  });
  return figure({
    title: `Scale: mock terminals on ptys at ${scale.baud} baud, one DaemonPortManager + LocalEngine`,
    note: `Median of ${scale.reps} runs per size; DIAG time scale ${scale.diagTimeScale}. ${loadNote}`,
    panel: box,
    panels: [ratio, memory, cpu],
  });
}

export function wireChart(wire: WireResults, loadNote: string): string {
  const box = { width: 440, height: 320 };
  const bauds = [...new Set(wire.cases.map((c) => c.baud))];
  const panels = bauds.map((baud) => {
    const cases = wire.cases.filter((c) => c.baud === baud);
    const f = cases[0]!.floors;
    const full = cases.find((c) => c.mode === 'full-duplex');
    const shipped = cases.find((c) => c.mode === 'mock-as-shipped');
    const measured = (c: typeof full, label: string, color: string) =>
      c
        ? [
            {
              label,
              segments: [{ name: 'measured', value: c.measuredMs.median, color }],
              whisker: [c.measuredMs.min, c.measuredMs.max] as [number, number],
              note: `${Math.round(c.measuredMs.median)} ms\n${c.ratio.median.toFixed(3)}× floor`,
            },
          ]
        : [];
    return barPanel(box, {
      title: `${baud} baud`,
      yLabel: 'time for one provisioning, ms',
      xLabel: '',
      legend: [
        { name: 'host→terminal bytes', color: COLORS.light },
        { name: 'terminal→host bytes', color: COLORS.blue },
        { name: 'terminal processing', color: COLORS.grey },
        { name: 'measured', color: COLORS.orange },
      ],
      bars: [
        {
          label: 'floor\n(issue 6)',
          segments: [
            { name: 'host→terminal bytes', value: f.h2tWireMs, color: COLORS.light },
            { name: 'terminal→host bytes', value: f.t2hWireMs, color: COLORS.blue },
            { name: 'terminal processing', value: f.processingMs, color: COLORS.grey },
          ],
          note: `${Math.round(f.specFloorMs)} ms`,
        },
        {
          label: 'critical\npath',
          segments: [{ name: 'critical path', value: f.criticalPathMs, color: '#9fb6d6' }],
          note: `${Math.round(f.criticalPathMs)} ms`,
        },
        ...measured(full, 'measured,\nfull duplex', COLORS.orange),
        ...measured(shipped, 'measured, mock\nas shipped', '#f2b27a'),
      ],
    });
  });
  return figure({
    title: 'Wire efficiency: one provisioning against the paced mock (in-process binding)',
    note: `Whiskers: min–max of ${wire.reps} runs. Floor = bytes both ways × 10 / baud + DIAG processing. ${loadNote}`,
    panel: box,
    panels,
  });
}
