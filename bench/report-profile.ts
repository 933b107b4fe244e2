/** docs/performance.md, section 5: where the daemon's CPU goes at 64 terminals (`--profile`). */
import type { FrameKind } from './lib/cpuprofile.js';
import { KIND_LABELS } from './lib/flamegraph.js';
import { ms, ms1, pct, table } from './report-format.js';

export interface ProfiledFunction {
  label: string;
  kind: FrameKind;
  selfMs: number;
  totalMs: number;
  selfShare: number;
  totalShare: number;
}

/** What results.json keeps of the profile (the .cpuprofile itself stays in bench/.out). */
export interface ProfileSection {
  measuredAt: string;
  loadAverage: [number, number, number];
  terminals: number;
  /** The .cpuprofile, relative to the project root. */
  file: string;
  wallMs: number;
  exchanges: number;
  durationMs: number;
  busyMs: number;
  idleMs: number;
  byKind: Array<{ kind: FrameKind; selfMs: number; share: number }>;
  /** The functions with the most self time. */
  functions: ProfiledFunction[];
  /** posbridge's own functions (src/) with the most total time, callees included. */
  ownFunctions: ProfiledFunction[];
}

function functionRows(list: ProfiledFunction[]): string[][] {
  return list.map((f) => [
    `\`${f.label.replace(/`/g, "'")}\``,
    KIND_LABELS[f.kind],
    ms1(f.selfMs),
    pct(f.selfShare),
    ms1(f.totalMs),
    pct(f.totalShare),
  ]);
}

export function profileSection(p: ProfileSection | undefined, cores: number): string {
  const head = "## 5. Where the daemon's time goes\n";
  if (!p) {
    return `${head}
_Not profiled yet: \`npm run bench -- --profile\` (or \`--only scale --profile\`) records a CPU profile of the
daemon provisioning 64 terminals on ptys and draws it here._
`;
  }
  const kinds = p.byKind.filter((k) => k.selfMs > 0).sort((a, b) => b.selfMs - a.selfMs);
  return `${head}
_Profiled ${p.measuredAt.slice(0, 16).replace('T', ' ')} UTC; load average ${p.loadAverage[0]} on ${cores} cores._

**What is measured.** One more run of section 3's largest pty size, ${p.terminals} terminals provisioned at once
(${ms(p.wallMs)}, ${p.exchanges.toLocaleString('en-US')} exchanges), after the measured ones and not counted in them, recorded with V8's sampling
profiler (the inspector's \`Profiler\`, every 1 ms: the \`.cpuprofile\` format that \`node --cpu-prof\` writes,
limited to that run). The profile is \`${p.file}\` (open it in Chrome DevTools or speedscope for
more); ${ms(p.busyMs)} of the ${ms(p.durationMs)} were busy, ${ms(p.idleMs)} idle (the event loop waiting for the
wire). Shares below are of the busy time. Self time is spent in the function itself; total time with
it anywhere on the stack (its callees included, recursion counted once). \`(anonymous@N)\` is an unnamed
function at line N of the JavaScript that ran (for src/, the compiled file in bench/.out/src/).
Profiling samples wall time: on a busy machine a system call during which the process waited for a
core (\`writeBuffer\`: write(2)) looks longer than the CPU it used.

![CPU profile of the daemon at ${p.terminals} terminals: flame graph](../bench/profile.svg)

**By kind of code** (self time):

${table(
  ['code', 'self time', 'share'],
  kinds.map((k) => [KIND_LABELS[k.kind], ms1(k.selfMs), pct(k.share)]),
)}

**Top functions by self time:**

${table(['function', 'code', 'self', 'self %', 'total', 'total %'], functionRows(p.functions.slice(0, 25)))}

**posbridge's own functions by total time** (where a change in src/ would land):

${table(['function', 'code', 'self', 'self %', 'total', 'total %'], functionRows(p.ownFunctions))}
`;
}
