/**
 * Other processes' CPU time and memory from /proc (Linux): the python pty bridges and the mock
 * terminals' process are not this process, so process.cpuUsage() does not see them.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

export interface ProcSample {
  pid: number;
  /** User + system CPU time, ms. */
  cpuMs: number;
  /** Resident set size, KiB. */
  rssKiB: number;
}

/** CPU time and RSS of one process, or undefined if it is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return { pid, cpuMs: ((utime + stime) * 1000) / ticksPerSecond(), rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** The direct children of `pid` (scanning /proc for their parent PID). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(name));
    } catch {
      // It ended while we looked.
    }
  }
  return children;
}

export interface GroupSample {
  count: number;
  cpuMs: number;
  rssKiB: number;
}

export function sampleGroup(pids: readonly number[]): GroupSample {
  let count = 0;
  let cpuMs = 0;
  let rssKiB = 0;
  for (const pid of pids) {
    const s = sampleProcess(pid);
    if (!s) continue;
    count++;
    cpuMs += s.cpuMs;
    rssKiB += s.rssKiB;
  }
  return { count, cpuMs, rssKiB };
}

export interface MachineCpu {
  /** CPU time all processes of the machine spent busy (user, nice, system, irq, softirq, steal), ms. */
  busyMs: number;
  /** Busy plus idle and iowait: cores × wall time, ms. */
  totalMs: number;
}

/** The whole machine's CPU time so far, from the first line of /proc/stat (all cores). */
export function machineCpu(): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    const toMs = 1000 / ticksPerSecond();
    return { busyMs: busy * toMs, totalMs: (busy + idle! + iowait!) * toMs };
  } catch {
    return undefined;
  }
}

/**
 * CPU time of one thread of this process, ms: /proc/self/task/TID/schedstat (nanoseconds on the
 * CPU), else that thread's stat (10 ms ticks). The main thread's id is the process id; the rest of
 * process.cpuUsage() is V8's helper threads (concurrent GC, compilers) and libuv's thread pool.
 */
export function threadCpuMs(tid: number = process.pid): number | undefined {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // No schedstat (a kernel without CONFIG_SCHEDSTATS): the coarser stat below.
  }
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}
