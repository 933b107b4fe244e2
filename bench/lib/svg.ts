/**
 * Just enough SVG for the benchmark charts, written as text: panels with axes, a line chart and a
 * (stacked) bar chart, laid side by side in one figure. No dependency, no script, no external font.
 */

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
export const COLORS = {
  blue: '#2f6db5',
  orange: '#e07b28',
  green: '#3c9a4a',
  red: '#c8362f',
  grey: '#8a8f98',
  light: '#c7d7ee',
  purple: '#7a52a8',
};

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (Math.abs(value) >= 10) return value.toFixed(0);
  return value.toFixed(2).replace(/\.?0+$/, '');
}

export interface Box {
  width: number;
  height: number;
}

const MARGIN = { top: 46, right: 16, bottom: 52, left: 58 };

function text(
  x: number,
  y: number,
  content: string,
  attrs: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: string;
    fill?: string;
    rotate?: boolean;
  } = {},
): string {
  const transform = attrs.rotate ? ` transform="rotate(-90 ${x} ${y})"` : '';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${attrs.size ?? 11}" text-anchor="${attrs.anchor ?? 'start'}"${attrs.weight ? ` font-weight="${attrs.weight}"` : ''} fill="${attrs.fill ?? '#222'}"${transform}>${escapeXml(content)}</text>`;
}

interface Frame {
  parts: string[];
  plot: { x0: number; x1: number; y0: number; y1: number };
  y: (value: number) => number;
}

function frame(
  box: Box,
  title: string,
  yLabel: string,
  yMin: number,
  yMax: number,
  xLabel: string,
  top = MARGIN.top,
): Frame {
  const plot = {
    x0: MARGIN.left,
    x1: box.width - MARGIN.right,
    y0: box.height - MARGIN.bottom,
    y1: top,
  };
  const y = (value: number) => plot.y0 - ((value - yMin) / (yMax - yMin)) * (plot.y0 - plot.y1);
  const parts = [
    text(box.width / 2, 18, title, { size: 13, anchor: 'middle', weight: '600' }),
    text(14, (plot.y0 + plot.y1) / 2, yLabel, { anchor: 'middle', rotate: true, fill: '#444' }),
    text((plot.x0 + plot.x1) / 2, box.height - 10, xLabel, { anchor: 'middle', fill: '#444' }),
  ];
  for (const tick of niceTicks(yMin, yMax)) {
    const ty = y(tick);
    parts.push(
      `<line x1="${plot.x0}" x2="${plot.x1}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#e4e6ea"/>`,
      text(plot.x0 - 6, ty + 4, fmt(tick), { anchor: 'end', fill: '#555' }),
    );
  }
  parts.push(
    `<line x1="${plot.x0}" x2="${plot.x0}" y1="${plot.y1}" y2="${plot.y0}" stroke="#888"/>`,
    `<line x1="${plot.x0}" x2="${plot.x1}" y1="${plot.y0}" y2="${plot.y0}" stroke="#888"/>`,
  );
  return { parts, plot, y };
}

export interface LineSeries {
  name: string;
  values: number[];
  color: string;
  dashed?: boolean;
  /** Print each point's value next to it. */
  labels?: boolean;
  unit?: string;
}

export interface LinePanel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** x positions (e.g. terminal counts); `log2` spaces them by powers of two. */
  x: number[];
  log2?: boolean;
  series: LineSeries[];
  /** Horizontal reference lines (a target). */
  marks?: Array<{ y: number; label: string; color: string }>;
  yMin?: number;
  yMax?: number;
}

export function linePanel(box: Box, panel: LinePanel): string {
  const all = [...panel.series.flatMap((s) => s.values), ...(panel.marks ?? []).map((m) => m.y)].filter(
    Number.isFinite,
  );
  const yMin = panel.yMin ?? Math.min(0, ...all);
  const yMax = panel.yMax ?? niceCeil(Math.max(...all) * 1.15);
  const f = frame(box, panel.title, panel.yLabel, yMin, yMax, panel.xLabel);
  const pos = panel.x.map((v) => (panel.log2 ? Math.log2(Math.max(v, 1)) : v));
  const pMin = Math.min(...pos);
  const pMax = Math.max(...pos);
  const pad = 18;
  const x = (i: number) =>
    pMax === pMin
      ? (f.plot.x0 + f.plot.x1) / 2
      : f.plot.x0 + pad + ((pos[i]! - pMin) / (pMax - pMin)) * (f.plot.x1 - f.plot.x0 - 2 * pad);
  panel.x.forEach((value, i) => {
    f.parts.push(
      `<line x1="${x(i).toFixed(1)}" x2="${x(i).toFixed(1)}" y1="${f.plot.y0}" y2="${f.plot.y0 + 4}" stroke="#888"/>`,
      text(x(i), f.plot.y0 + 16, String(value), { anchor: 'middle', fill: '#555' }),
    );
  });
  for (const mark of panel.marks ?? []) {
    const my = f.y(mark.y);
    f.parts.push(
      `<line x1="${f.plot.x0}" x2="${f.plot.x1}" y1="${my.toFixed(1)}" y2="${my.toFixed(1)}" stroke="${mark.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      text(f.plot.x1 - 4, my + 14, mark.label, { anchor: 'end', fill: mark.color }),
    );
  }
  panel.series.forEach((series, s) => {
    // One polyline per run of measured points: a gap (NaN, a size not measured) is not bridged.
    const runs: string[][] = [[]];
    series.values.forEach((v, i) => {
      if (Number.isFinite(v)) runs.at(-1)!.push(`${x(i).toFixed(1)},${f.y(v).toFixed(1)}`);
      else if (runs.at(-1)!.length > 0) runs.push([]);
    });
    for (const points of runs.filter((r) => r.length > 1)) {
      f.parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
    }
    series.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      f.parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${f.y(v).toFixed(1)}" r="3.5" fill="${series.color}"/>`,
      );
      if (series.labels) {
        f.parts.push(
          text(x(i), f.y(v) - 8, `${fmt(v)}${series.unit ?? ''}`, {
            anchor: 'middle',
            size: 10,
            fill: series.color,
          }),
        );
      }
    });
    // Legend, top left inside the plot.
    const ly = f.plot.y1 + 4 + s * 15;
    f.parts.push(
      `<line x1="${f.plot.x0 + 8}" x2="${f.plot.x0 + 26}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      text(f.plot.x0 + 30, ly + 4, series.name, { size: 10, fill: '#333' }),
    );
  });
  return f.parts.join('\n');
}

export interface BarSegment {
  name: string;
  value: number;
  color: string;
}

export interface Bar {
  label: string;
  segments: BarSegment[];
  /** min–max of the runs, drawn as a whisker. */
  whisker?: [number, number];
  /** Printed above the bar. */
  note?: string;
}

export interface BarPanel {
  title: string;
  yLabel: string;
  xLabel: string;
  bars: Bar[];
  /** One legend entry per segment name, in this order. */
  legend: Array<{ name: string; color: string }>;
}

/** Legend entries laid out left to right, wrapping, from y = 30: their positions and the rows used. */
function legendLayout(
  entries: ReadonlyArray<{ name: string }>,
  x0: number,
  x1: number,
): { places: Array<{ x: number; y: number }>; rows: number } {
  const places: Array<{ x: number; y: number }> = [];
  let x = x0;
  let row = 0;
  for (const entry of entries) {
    const width = 14 + entry.name.length * 5.6 + 14;
    if (x + width > x1 && x > x0) {
      row++;
      x = x0;
    }
    places.push({ x, y: 36 + row * 15 });
    x += width;
  }
  return { places, rows: row + 1 };
}

export function barPanel(box: Box, panel: BarPanel): string {
  const tops = panel.bars.map((b) =>
    Math.max(
      b.segments.reduce((a, s) => a + s.value, 0),
      b.whisker?.[1] ?? 0,
    ),
  );
  const yMax = niceCeil(Math.max(...tops) * 1.22);
  const legend = legendLayout(panel.legend, MARGIN.left, box.width - MARGIN.right);
  const f = frame(box, panel.title, panel.yLabel, 0, yMax, panel.xLabel, 36 + legend.rows * 15 + 10);
  const slot = (f.plot.x1 - f.plot.x0) / panel.bars.length;
  const width = Math.min(46, slot * 0.6);
  panel.bars.forEach((bar, i) => {
    const cx = f.plot.x0 + slot * (i + 0.5);
    let base = 0;
    for (const segment of bar.segments) {
      const yTop = f.y(base + segment.value);
      const yBottom = f.y(base);
      f.parts.push(
        `<rect x="${(cx - width / 2).toFixed(1)}" y="${yTop.toFixed(1)}" width="${width.toFixed(1)}" height="${Math.max(0, yBottom - yTop).toFixed(1)}" fill="${segment.color}"><title>${escapeXml(`${bar.label}: ${segment.name} ${fmt(segment.value)}`)}</title></rect>`,
      );
      base += segment.value;
    }
    if (bar.whisker) {
      const [lo, hi] = bar.whisker;
      f.parts.push(
        `<line x1="${cx}" x2="${cx}" y1="${f.y(lo).toFixed(1)}" y2="${f.y(hi).toFixed(1)}" stroke="#222" stroke-width="1.2"/>`,
        `<line x1="${cx - 6}" x2="${cx + 6}" y1="${f.y(lo).toFixed(1)}" y2="${f.y(lo).toFixed(1)}" stroke="#222" stroke-width="1.2"/>`,
        `<line x1="${cx - 6}" x2="${cx + 6}" y1="${f.y(hi).toFixed(1)}" y2="${f.y(hi).toFixed(1)}" stroke="#222" stroke-width="1.2"/>`,
      );
    }
    const top = Math.max(base, bar.whisker?.[1] ?? 0);
    if (bar.note) {
      bar.note.split('\n').forEach((line, k, lines) => {
        f.parts.push(
          text(cx, f.y(top) - 6 - (lines.length - 1 - k) * 12, line, { anchor: 'middle', size: 10 }),
        );
      });
    }
    bar.label.split('\n').forEach((line, k) => {
      f.parts.push(text(cx, f.plot.y0 + 14 + k * 12, line, { anchor: 'middle', size: 10, fill: '#333' }));
    });
  });
  panel.legend.forEach((entry, k) => {
    const { x: lx, y: ly } = legend.places[k]!;
    f.parts.push(
      `<rect x="${lx.toFixed(1)}" y="${ly - 9}" width="10" height="10" fill="${entry.color}"/>`,
      text(lx + 14, ly, entry.name, { size: 10, fill: '#333' }),
    );
  });
  return f.parts.join('\n');
}

/** Panels side by side, a title and a footnote, as one standalone SVG document. */
export function figure(options: { title: string; note?: string; panel: Box; panels: string[] }): string {
  const { panel } = options;
  const top = 30;
  const bottom = options.note ? 26 : 8;
  const width = panel.width * options.panels.length;
  const height = top + panel.height + bottom;
  const body = options.panels
    .map((p, i) => `<g transform="translate(${i * panel.width} ${top})">\n${p}\n</g>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}" ${FONT}>`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(12, 20, options.title, { size: 15, weight: '700' }),
    body,
    options.note ? text(12, height - 9, options.note, { size: 10, fill: '#555' }) : '',
    '</svg>',
    '',
  ].join('\n');
}

function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * magnitude >= value) ?? 10;
  return step * magnitude;
}
