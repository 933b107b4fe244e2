/**
 * A flame graph of a CPU profile as a static SVG (no script, opens anywhere, hover shows each
 * frame's times): the busy time left to right, callers below their callees, each box as wide as the
 * time its function was on the stack on that path. `(idle)` is left out; siblings are ordered by
 * name, as in Brendan Gregg's flame graphs, so that the same call path is in the same place in two
 * profiles.
 */
import {
  type CpuProfile,
  type FrameKind,
  frameKind,
  frameLabel,
  type TimedNode,
  timedTree,
} from './cpuprofile.js';
import { escapeXml } from './svg.js';

export interface FlameGraphOptions {
  title: string;
  /** A line under the title (machine, load). */
  note?: string;
  width?: number;
  /** Deeper frames are cut (the SVG stays small). */
  maxDepth?: number;
  /** Boxes narrower than this many pixels are not drawn. */
  minWidthPx?: number;
}

export const KIND_COLORS: Record<FrameKind, string> = {
  project: '#e07b28',
  bench: '#c9a227',
  package: '#3c9a4a',
  node: '#2f6db5',
  v8: '#8a8f98',
  gc: '#c8362f',
  idle: '#ffffff',
};

export const KIND_LABELS: Record<FrameKind, string> = {
  project: 'posbridge (src/)',
  bench: 'benchmark harness',
  package: 'npm packages',
  node: 'Node.js',
  v8: 'V8 / native',
  gc: 'garbage collector',
  idle: 'idle',
};

const ROW = 17;
const CHAR_PX = 6.4;
const FAMILY = 'font-family="ui-monospace, Menlo, Consolas, monospace"';
const FONT = `${FAMILY} font-size="11"`;

function label(node: TimedNode): string {
  return frameLabel(node.frame);
}

/** The tree without (idle), its total recomputed: the busy time. */
function busyTree(profile: CpuProfile): TimedNode {
  const tree = timedTree(profile);
  const children = tree.children.filter((c) => frameKind(c.frame) !== 'idle');
  return { ...tree, children, totalUs: tree.selfUs + children.reduce((s, c) => s + c.totalUs, 0) };
}

export function flameGraph(profile: CpuProfile, options: FlameGraphOptions): string {
  const width = options.width ?? 1200;
  const maxDepth = options.maxDepth ?? 60;
  const minWidthPx = options.minWidthPx ?? 0.4;
  const root = busyTree(profile);
  const busyUs = root.totalUs;
  const scale = busyUs > 0 ? width / busyUs : 0;
  const boxes: Array<{ x: number; depth: number; w: number; node: TimedNode }> = [];
  let deepest = 0;
  const place = (node: TimedNode, x: number, depth: number): void => {
    const w = node.totalUs * scale;
    if (w < minWidthPx || depth > maxDepth) return;
    boxes.push({ x, depth, w, node });
    deepest = Math.max(deepest, depth);
    let childX = x;
    const children = [...node.children].sort((a, b) => label(a).localeCompare(label(b)));
    for (const child of children) {
      place(child, childX, depth + 1);
      childX += child.totalUs * scale;
    }
  };
  place(root, 0, 0);

  const top = options.note ? 58 : 42;
  const legendY = top + (deepest + 1) * ROW + 14;
  const height = legendY + 24;
  const y = (depth: number) => top + (deepest - depth) * ROW;
  const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
  const pct = (us: number) => `${busyUs > 0 ? ((us / busyUs) * 100).toFixed(1) : '0'} %`;
  const rects = boxes.map(({ x, depth, w, node }) => {
    const isRoot = depth === 0;
    const text = isRoot ? `all (${ms(busyUs)} busy)` : label(node);
    const color = isRoot ? '#d9d9d9' : KIND_COLORS[frameKind(node.frame)];
    const tip = `${text}: ${ms(node.totalUs)} total (${pct(node.totalUs)}), ${ms(node.selfUs)} self (${pct(node.selfUs)})`;
    const fits = Math.floor((w - 6) / CHAR_PX);
    const shown = fits >= 4 ? (text.length <= fits ? text : `${text.slice(0, fits - 2)}..`) : '';
    return (
      `<g><title>${escapeXml(tip)}</title>` +
      `<rect x="${x.toFixed(2)}" y="${y(depth)}" width="${Math.max(0.1, w - 0.3).toFixed(2)}" height="${ROW - 1}" fill="${color}" rx="1.5"/>` +
      (shown
        ? `<text x="${(x + 3).toFixed(2)}" y="${y(depth) + 12}" ${FONT} fill="#111">${escapeXml(shown)}</text>`
        : '') +
      '</g>'
    );
  });
  const kinds: FrameKind[] = ['project', 'package', 'node', 'v8', 'gc', 'bench'];
  let legendX = 0;
  const legend = kinds.map((kind) => {
    const item =
      `<rect x="${legendX.toFixed(1)}" y="${legendY}" width="12" height="12" fill="${KIND_COLORS[kind]}"/>` +
      `<text x="${(legendX + 16).toFixed(1)}" y="${legendY + 10}" ${FONT} fill="#222">${escapeXml(KIND_LABELS[kind])}</text>`;
    legendX += 30 + KIND_LABELS[kind].length * CHAR_PX;
    return item;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
    '<rect width="100%" height="100%" fill="#fbfbfb"/>',
    `<text x="0" y="20" ${FAMILY} font-size="14" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>`,
    options.note ? `<text x="0" y="38" ${FONT} fill="#444">${escapeXml(options.note)}</text>` : '',
    ...rects,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
