/**
 * The benchmark's CPU profile reader and flame graph (bench/lib/cpuprofile.ts, flamegraph.ts) on a
 * small synthetic .cpuprofile whose times are worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { type CpuProfile, frameWhere, summarizeProfile } from '../../bench/lib/cpuprofile.js';
import { flameGraph } from '../../bench/lib/flamegraph.js';

const SESSION = 'file:///work/posbridge/bench/.out/src/host/session.js';
const LINE = 'file:///work/posbridge/bench/.out/src/protocol/line.js';
const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
  scriptId: 0,
});

/**
 * (root) ─┬─ (idle)
 *         ├─ main ── parse ── main      (main calls parse, which calls main again)
 *         ├─ (garbage collector)
 *         └─ main                        (a second node for the same frame: merged with the first)
 */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 6, 7] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('main', SESSION, 10), children: [4] },
    { id: 4, callFrame: frame('parse', LINE, 20), children: [5] },
    { id: 5, callFrame: frame('main', SESSION, 10) },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('main', SESSION, 10) },
  ],
  startTime: 1000,
  endTime: 7000,
  // Stamps 1100, 2100, 4100, 4600, 5000, 6000, 6300; each sample lasts until the next (the last
  // until endTime): idle 1000, main 2000, parse 500, main 400, gc 1000, main 300, main 700 µs.
  samples: [2, 3, 4, 5, 6, 3, 7],
  timeDeltas: [100, 1000, 2000, 500, 400, 1000, 300],
};

describe('cpuprofile summary', () => {
  it('gives self and total time per function, recursion counted once, shares of the busy time', () => {
    const summary = summarizeProfile(PROFILE);
    expect(summary.durationMs).toBe(6);
    expect(summary.idleMs).toBeCloseTo(1);
    expect(summary.busyMs).toBeCloseTo(4.9);
    expect(summary.samples).toBe(7);
    const byLabel = Object.fromEntries(summary.functions.map((f) => [f.label, f]));
    expect(Object.keys(byLabel)).toEqual([
      'main (src/host/session.ts)',
      '(garbage collector)',
      'parse (src/protocol/line.ts)',
    ]);
    const main = byLabel['main (src/host/session.ts)']!;
    expect(main.selfMs).toBeCloseTo(3.4);
    expect(main.totalMs).toBeCloseTo(3.9);
    expect(main.selfShare).toBeCloseTo(3.4 / 4.9);
    expect(main.totalShare).toBeCloseTo(3.9 / 4.9);
    expect(main.kind).toBe('project');
    const parse = byLabel['parse (src/protocol/line.ts)']!;
    expect(parse.selfMs).toBeCloseTo(0.5);
    expect(parse.totalMs).toBeCloseTo(0.9);
    expect(byLabel['(garbage collector)']).toMatchObject({ kind: 'gc', selfMs: 1, totalMs: 1 });
    const kinds = Object.fromEntries(summary.byKind.map((k) => [k.kind, k.selfMs]));
    expect(kinds.project).toBeCloseTo(3.9);
    expect(kinds.gc).toBeCloseTo(1);
    expect(kinds.node).toBe(0);
  });

  it('names where code lives the way a reader knows it', () => {
    expect(frameWhere(SESSION)).toBe('src/host/session.ts');
    expect(frameWhere('file:///w/bench/.out/bench/scale.js')).toBe('bench/scale.ts');
    expect(frameWhere('file:///w/node_modules/pino/lib/proto.js')).toBe('pino');
    expect(frameWhere('file:///w/node_modules/@serialport/stream/dist/index.js')).toBe('@serialport/stream');
    expect(frameWhere('node:internal/streams/readable')).toBe('node:internal/streams/readable');
    expect(frameWhere('file:///w/dist/host/driver.js')).toBe('src/host/driver.ts');
  });
});

/** The boxes whose hover text starts with `title`: position and width. */
function boxes(svg: string, title: string): Array<{ x: number; y: number; w: number }> {
  const escaped = title.replace(/[()]/g, (c) => `\\${c}`);
  const pattern = new RegExp(
    `<title>${escaped}:[^<]*</title><rect x="([\\d.]+)" y="(\\d+)" width="([\\d.]+)"`,
    'g',
  );
  return [...svg.matchAll(pattern)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]) }));
}

describe('flame graph', () => {
  it('draws each call path as wide as its time, without (idle), with the times on hover', () => {
    const svg = flameGraph(PROFILE, { title: 'synthetic <profile>', note: 'a note & more', width: 1000 });
    expect(svg.startsWith('<svg ')).toBe(true);
    // Well-formed enough for a browser: no attribute twice in a tag, text escaped.
    for (const tag of svg.match(/<[a-z]+ [^>]*>/g) ?? []) {
      const names = [...tag.matchAll(/ ([a-z-]+)="/g)].map((m) => m[1]);
      expect(new Set(names).size, tag).toBe(names.length);
    }
    expect(svg).toContain('synthetic &lt;profile&gt;');
    expect(svg).toContain('a note &amp; more');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toContain('(idle)');
    expect(svg).toContain('<title>all (4.9 ms busy): 4.9 ms total (100.0 %), 0.0 ms self (0.0 %)</title>');
    expect(svg).toContain(
      '<title>main (src/host/session.ts): 3.9 ms total (79.6 %), 3.0 ms self (61.2 %)</title>',
    );
    // Siblings by name: the garbage collector (1.0 of 4.9 ms: 204.08 px of 1000) first, then main
    // (3.9 ms: 795.92 px); each box 0.3 px narrower, a gap to the next.
    expect(boxes(svg, '(garbage collector)')).toEqual([{ x: 0, y: 92, w: 203.78 }]);
    const [outer, inner] = boxes(svg, 'main (src/host/session.ts)');
    expect(outer).toEqual({ x: 204.08, y: 92, w: 795.62 });
    // The recursive main sits on parse, two rows (17 px each) above the first main.
    expect(boxes(svg, 'parse (src/protocol/line.ts)')).toEqual([{ x: 204.08, y: 75, w: 183.37 }]);
    expect(inner).toEqual({ x: 204.08, y: 58, w: 81.33 });
  });

  it('names the picture for screen readers (biome lint/a11y/noSvgWithoutTitle checks the committed SVG)', () => {
    const svg = flameGraph(PROFILE, { title: 'synthetic <profile>', width: 1000 });
    const [head, first] = svg.split('\n');
    expect(head).toContain(' role="img" aria-label="synthetic &lt;profile&gt;"');
    expect(first).toBe('<title>synthetic &lt;profile&gt;</title>');
  });
});
