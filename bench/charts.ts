/** The two figures docs/performance.md shows, drawn from the results. */

import { barPanel, COLORS, figure, linePanel } from './lib/svg.js';
import type { ScaleResults } from './scale.js';
import { SCALE_TARGETS } from './scale-targets.js';
import type { WireResults } from './wire-efficiency.js';

export function scaleChart(scale: ScaleResults, loadNote: string, overTcp?: ScaleResults): string {
  // Both runs on one axis: the sizes of either.
  const n = [...new Set([...scale.cases, ...(overTcp?.cases ?? [])].map((c) => c.terminals))].sort(
    (a, b) => a - b,
  );
  const at = (s: ScaleResults | undefined, pick: (c: ScaleResults['cases'][number]) => number | undefined) =>
    n.map((k) => {
      const c = s?.cases.find((d) => d.terminals === k);
      return c === undefined ? Number.NaN : (pick(c) ?? Number.NaN);
    });
  const tcpSeries = (
    pick: (c: ScaleResults['cases'][number]) => number | undefined,
    extra: { unit?: string } = {},
  ) =>
    overTcp
      ? [
          {
            name: 'terminals on TCP',
            values: at(overTcp, pick),
            color: COLORS.grey,
            dashed: true,
            labels: true,
            ...extra,
          },
        ]
      : [];
  const box = { width: 380, height: 290 };
  const ratios = [...at(scale, (c) => c.wallRatio), ...at(overTcp, (c) => c.wallRatio)].filter(
    Number.isFinite,
  );
  const ratio = linePanel(box, {
    title: 'Wall time relative to one terminal',
    xLabel: 'terminals provisioned at once',
    yLabel: 'wall time / wall time of 1',
    x: n,
    log2: true,
    series: [
      {
        name: 'terminals on ptys',
        values: at(scale, (c) => c.wallRatio),
        color: COLORS.blue,
        labels: true,
        unit: '×',
      },
      ...tcpSeries((c) => c.wallRatio, { unit: '×' }),
    ],
    marks: [
      {
        y: SCALE_TARGETS.pty.ratio,
        label: `ptys: ≤ ${SCALE_TARGETS.pty.ratio.toFixed(2)} at ${SCALE_TARGETS.pty.terminals}`,
        color: COLORS.red,
      },
      ...(overTcp
        ? [
            {
              y: SCALE_TARGETS.tcp.ratio,
              label: `TCP: ≤ ${SCALE_TARGETS.tcp.ratio.toFixed(2)} at ${SCALE_TARGETS.tcp.terminals}`,
              color: COLORS.orange,
            },
          ]
        : []),
    ],
    yMin: Math.min(0.8, ...ratios.map((r) => r - 0.1)),
    yMax: Math.max(1.4, ...ratios.map((r) => r * 1.12)),
  });
  const memory = linePanel(box, {
    title: 'Peak memory of the daemon process',
    xLabel: 'terminals provisioned at once',
    yLabel: 'RSS, MiB',
    x: n,
    log2: true,
    series: [
      { name: 'peak RSS, ptys', values: at(scale, (c) => c.peakRssMiB), color: COLORS.green, labels: true },
      ...tcpSeries((c) => c.peakRssMiB),
      {
        name: 'RSS before the run',
        values: n.map(() => scale.baselineRssMiB),
        color: COLORS.light,
        dashed: true,
      },
    ],
    marks: overTcp
      ? [
          {
            y: SCALE_TARGETS.tcp.peakRssMiB!,
            label: `≤ ${SCALE_TARGETS.tcp.peakRssMiB} MiB at ${SCALE_TARGETS.tcp.terminals}`,
            color: COLORS.red,
          },
        ]
      : [],
    yMin: 0,
  });
  const cpu = linePanel(box, {
    title: 'Daemon CPU per exchange',
    xLabel: 'terminals provisioned at once',
    yLabel: 'CPU time per exchange, µs',
    x: n,
    log2: true,
    series: [
      {
        name: 'terminals on ptys',
        values: at(scale, (c) => c.cpuPerExchangeUs),
        color: COLORS.blue,
        labels: true,
      },
      ...tcpSeries((c) => c.cpuPerExchangeUs),
    ],
    yMin: 0,
  });
  return figure({
    title: `Scale: mock terminals at ${scale.baud} baud, one DaemonPortManager + LocalEngine`,
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
