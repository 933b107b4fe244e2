/**
 * Reading a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` or the inspector writes it): where
 * the time went, per function (self and total time) and per kind of code, for docs/performance.md.
 *
 * The format: `nodes` is the call tree (each node a call frame under its parent, `children` by id),
 * `samples[i]` the node on top of the stack at sample i, `timeDeltas[i]` the µs between sample i-1
 * and sample i. As in Chrome DevTools, sample i lasts until sample i+1 (the last one until
 * `endTime`). `(idle)` is the event loop waiting: it is reported, but percentages are of the busy
 * time (everything else), which is what a change in the code can shrink.
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  scriptId?: string | number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What kind of code a frame is, for colours and the summary. */
export type FrameKind = 'project' | 'bench' | 'package' | 'node' | 'v8' | 'gc' | 'idle';

export interface FunctionTime {
  /** `name (where)`, e.g. `receive (src/host/session.ts)`. */
  label: string;
  name: string;
  where: string;
  kind: FrameKind;
  selfMs: number;
  /** Time with this function on the stack (each stack counted once, recursion or not). */
  totalMs: number;
  /** Of the busy time. */
  selfShare: number;
  totalShare: number;
}

export interface ProfileSummary {
  /** endTime - startTime. */
  durationMs: number;
  idleMs: number;
  busyMs: number;
  samples: number;
  byKind: Array<{ kind: FrameKind; selfMs: number; share: number }>;
  /** Every function, by self time, longest first. */
  functions: FunctionTime[];
}

/** A path as the reader knows it: `src/host/session.ts`, `pino`, `node:internal/...`. */
export function frameWhere(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    return pkg;
  }
  // The benchmarks run src/ and bench/ compiled into bench/.out/ (bench/tsconfig.json).
  const compiled = /\/bench\/\.out\/((?:src|bench)\/.*)\.js$/.exec(path);
  if (compiled) return `${compiled[1]}.ts`;
  const built = /\/dist\/(.*)\.js$/.exec(path);
  if (built) return `src/${built[1]}.ts`;
  return path;
}

export function frameKind(frame: CallFrame): FrameKind {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'gc';
  if (url === '') return 'v8';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) return 'package';
  const where = frameWhere(url);
  if (where.startsWith('src/')) return 'project';
  if (where.startsWith('bench/')) return 'bench';
  return 'node';
}

/**
 * A frame's name; an unnamed function is told apart by its line in the JavaScript that ran
 * (`(anonymous@115)`: for src/ and bench/, line 115 of the compiled file in bench/.out).
 */
export function frameName(frame: CallFrame): string {
  if (frame.functionName !== '') return frame.functionName;
  return frame.url === '' ? '(anonymous)' : `(anonymous@${frame.lineNumber + 1})`;
}

/** `name (where)`, as the tables and the flame graph show a frame. */
export function frameLabel(frame: CallFrame): string {
  const where = frameWhere(frame.url);
  return where ? `${frameName(frame)} (${where})` : frameName(frame);
}

function frameKey(frame: CallFrame): string {
  return `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}`;
}

/** Self time of every node, µs, from the samples. */
export function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  const stamps = samples.map((_, i) => {
    at += timeDeltas[i] ?? 0;
    return at;
  });
  for (let i = 0; i < samples.length; i++) {
    const until = i + 1 < samples.length ? stamps[i + 1]! : Math.max(profile.endTime, stamps[i]!);
    const duration = Math.max(0, until - stamps[i]!);
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + duration);
  }
  return self;
}

export interface TimedNode {
  frame: CallFrame;
  key: string;
  selfUs: number;
  totalUs: number;
  children: TimedNode[];
}

/** The call tree with self and total times, µs; siblings with the same frame are merged. */
export function timedTree(profile: CpuProfile): TimedNode {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const childIds = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const root = profile.nodes.find((n) => !childIds.has(n.id));
  if (!root) throw new Error('cpuprofile: no root node');
  const self = selfTimes(profile);
  const build = (node: ProfileNode): TimedNode => {
    const merged = new Map<string, TimedNode>();
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      if (!child) continue;
      const timed = build(child);
      const same = merged.get(timed.key);
      if (same) mergeInto(same, timed);
      else merged.set(timed.key, timed);
    }
    const children = [...merged.values()];
    const selfUs = self.get(node.id) ?? 0;
    return {
      frame: node.callFrame,
      key: frameKey(node.callFrame),
      selfUs,
      totalUs: selfUs + children.reduce((sum, c) => sum + c.totalUs, 0),
      children,
    };
  };
  return build(root);
}

function mergeInto(into: TimedNode, from: TimedNode): void {
  into.selfUs += from.selfUs;
  into.totalUs += from.totalUs;
  for (const child of from.children) {
    const same = into.children.find((c) => c.key === child.key);
    if (same) mergeInto(same, child);
    else into.children.push(child);
  }
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const tree = timedTree(profile);
  const perFunction = new Map<string, { frame: CallFrame; selfUs: number; totalUs: number }>();
  const perKind = new Map<FrameKind, number>();
  // How many times each function is on the stack above the node being walked.
  const onStack = new Map<string, number>();
  const walk = (node: TimedNode): void => {
    const entry = perFunction.get(node.key) ?? { frame: node.frame, selfUs: 0, totalUs: 0 };
    perFunction.set(node.key, entry);
    entry.selfUs += node.selfUs;
    // A function already on the stack above (recursion) has this time counted already.
    const depth = onStack.get(node.key) ?? 0;
    if (depth === 0) entry.totalUs += node.totalUs;
    const kind = frameKind(node.frame);
    perKind.set(kind, (perKind.get(kind) ?? 0) + node.selfUs);
    onStack.set(node.key, depth + 1);
    for (const child of node.children) walk(child);
    onStack.set(node.key, depth);
  };
  walk(tree);
  const idleUs = perKind.get('idle') ?? 0;
  const busyUs = Math.max(0, tree.totalUs - idleUs);
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  const functions: FunctionTime[] = [...perFunction.values()]
    .filter(({ frame }) => frame.functionName !== '(root)' && frameKind(frame) !== 'idle')
    .map(({ frame, selfUs, totalUs }) => {
      return {
        label: frameLabel(frame),
        name: frameName(frame),
        where: frameWhere(frame.url),
        kind: frameKind(frame),
        selfMs: selfUs / 1000,
        totalMs: totalUs / 1000,
        selfShare: share(selfUs),
        totalShare: share(totalUs),
      };
    })
    .sort((a, b) => b.selfMs - a.selfMs || b.totalMs - a.totalMs);
  const kinds: FrameKind[] = ['project', 'bench', 'package', 'node', 'v8', 'gc'];
  return {
    durationMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    samples: profile.samples.length,
    byKind: kinds.map((kind) => ({
      kind,
      selfMs: (perKind.get(kind) ?? 0) / 1000,
      share: share(perKind.get(kind) ?? 0),
    })),
    functions,
  };
}
