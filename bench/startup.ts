/**
 * Benchmark 4, start-up: `posbridge --version` and each command from cold (info, ports, scan,
 * provision --dry-run, history, mock --help; a new process each time, as a person or a script runs
 * them), against `node -e 0` as the floor. Runs are interleaved and the median is kept. Each
 * command imports its own modules when it runs (src/cli/commands/*), so each row shows what that
 * command costs, not the whole program.
 *
 * Where the time goes: the static import graph of dist/cli/main.js (what loads before any
 * command runs), and the cost of importing each third-party package it reaches, and of the
 * project's own modules, each alone in a fresh process (median of a few).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median, round, roundSummary, type Summary, summarize } from './lib/stats.js';

/** `posbridge --version` cold / `node -e 0` (issue 12: keep it). */
export const STARTUP_TARGET = 1.5;
/** `posbridge info --port mock://x` cold / `node -e 0` (issue 12's target). */
export const INFO_STARTUP_TARGET = 2.0;
/** Pseudo-modules of the import table: everything main.js loads, and all its packages together. */
export const ALL_OF_MAIN = '(everything main.js imports)';
export const ALL_PACKAGES = '(all those packages together)';

export interface StartupOptions {
  root: string;
  runs: number;
  importRuns: number;
  log: (line: string) => void;
}

export interface StartupCase {
  command: string;
  wallMs: Summary;
  /** median / median of `node -e 0`. */
  ratio: number;
  target?: number;
  met?: boolean;
  /**
   * What the command loaded, counted in one more run with a module hook: every ES and CommonJS
   * module file (project and packages) and their size. Unlike wall time, the machine's load does
   * not change it.
   */
  loaded?: { modules: number; kib: number };
}

export interface ImportCost {
  /** A package name, or a project module (dist/...). */
  module: string;
  /** Median time of `await import(module)` alone in a fresh process, ms. */
  importMs: number;
  /** How main.js reaches it: the chain of project modules, shortest first found. */
  via: string[];
}

export interface StartupResults {
  runs: number;
  cases: StartupCase[];
  graph: {
    /** Project modules loaded before any command runs. */
    projectModules: number;
    projectKiB: number;
    /** Third-party packages imported statically by that graph. */
    packages: string[];
  };
  imports: ImportCost[];
}

interface Command {
  label: string;
  args: string[];
  /** The exit code a run must end with (default 0): scan says 1 when a factory password is set. */
  exitCode?: number;
  target?: number;
}

function runOnce(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  exitCode = 0,
): Promise<{ ms: number; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      if (code !== exitCode)
        reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-500)}`));
      else resolve({ ms, code, stdout });
    });
  });
}

/**
 * The environment of every child: no inherited NODE_OPTIONS, an audit trail in a temp dir, no
 * daemon to go through and no daemon config but the (absent) one in the temp dir.
 */
function childEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POSBRIDGE_AUDIT: path.join(dir, 'audit.sqlite'),
    POSBRIDGE_SOCKET: path.join(dir, 'no-daemon.sock'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  delete env.NODE_OPTIONS;
  return env;
}

export async function runStartup(options: StartupOptions): Promise<StartupResults> {
  const main = path.join(options.root, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const dir = mkdtempSync(path.join(tmpdir(), 'posbridge-bench-startup-'));
  try {
    const env = childEnv(dir);
    const posbridge = (args: string[], more: Partial<Command> = {}): Command => ({
      label: `posbridge ${args.join(' ')}`,
      args: [main, ...args],
      ...more,
    });
    const commands: Command[] = [
      { label: 'node -e 0', args: ['-e', '0'] },
      posbridge(['--version'], { target: STARTUP_TARGET }),
      posbridge(['info', '--port', 'mock://x'], { target: INFO_STARTUP_TARGET }),
      posbridge(['ports']),
      // A factory password still set: exit 1, as the command documents.
      posbridge(['scan', '--port', 'mock://x'], { exitCode: 1 }),
      posbridge([
        'provision',
        '--port',
        'mock://x',
        '--merchant',
        '822100052110023',
        '--terminal',
        '10023456',
        '--dry-run',
      ]),
      // After the provisioning above, the trail holds runs: history opens and reads it.
      posbridge(['history']),
      posbridge(['mock', '--help']),
    ];
    const times = new Map<string, number[]>(commands.map((c) => [c.label, []]));
    const run = (c: Command) => runOnce(c.args, env, options.root, c.exitCode);
    // One untimed round first: the files are in the page cache for every timed run alike.
    for (const c of commands) await run(c);
    for (let i = 0; i < options.runs; i++) {
      for (const c of commands) times.get(c.label)!.push((await run(c)).ms);
    }
    const floor = median(times.get('node -e 0')!);
    const hook = writeLoadHook(dir);
    const cases: StartupCase[] = [];
    for (const c of commands) {
      const s = summarize(times.get(c.label)!);
      const ratio = s.median / floor;
      const loaded = c.args[0] === main ? await countLoaded(c, hook, env, options.root) : undefined;
      options.log(
        `  startup ${c.label}: median ${s.median.toFixed(0)} ms (${ratio.toFixed(2)}x node -e 0)` +
          (loaded ? `, ${loaded.modules} modules (${loaded.kib} KiB)` : ''),
      );
      cases.push({
        command: c.label,
        wallMs: roundSummary(s, 1),
        ratio: round(ratio, 2),
        ...(c.target !== undefined && { target: c.target, met: ratio <= c.target }),
        ...(loaded && { loaded }),
      });
    }

    const graph = importGraph(main, options.root);
    const file = (m: string) => pathToFileURL(path.join(options.root, m)).href;
    const mainGraph = ['dist/cli/program.js', 'dist/cli/compose.js', 'dist/cli/io.js'].filter((m) =>
      existsSync(path.join(options.root, m)),
    );
    const targets: Array<{ module: string; specifiers: string[] }> = [
      { module: ALL_OF_MAIN, specifiers: mainGraph.map(file) },
      { module: ALL_PACKAGES, specifiers: graph.packages },
      ...graph.packages.map((p) => ({ module: p, specifiers: [p] })),
      ...['dist/cli/program.js', 'dist/cli/compose.js', 'dist/mock-device/index.js', 'dist/audit/index.js']
        .filter((m) => existsSync(path.join(options.root, m)))
        .map((m) => ({ module: m, specifiers: [file(m)] })),
    ];
    const imports: ImportCost[] = [];
    for (const target of targets) {
      const loads = target.specifiers.map((s) => `await import(${JSON.stringify(s)});`).join(' ');
      const code = `const t = performance.now(); ${loads} process.stdout.write(String(performance.now() - t));`;
      const samples: number[] = [];
      for (let i = 0; i < options.importRuns; i++) {
        const { stdout } = await runOnce(['--input-type=module', '-e', code], env, options.root);
        samples.push(Number(stdout));
      }
      const cost = {
        module: target.module,
        importMs: round(median(samples), 1),
        via: graph.via.get(target.module) ?? [],
      };
      imports.push(cost);
      options.log(`  startup import ${cost.module}: ${cost.importMs} ms`);
    }
    // The two aggregates first, then the single modules, costliest first.
    const aggregates = imports.filter((i) => i.module.startsWith('('));
    const singles = imports.filter((i) => !i.module.startsWith('(')).sort((a, b) => b.importMs - a.importMs);
    return {
      runs: options.runs,
      cases,
      graph: {
        projectModules: graph.modules,
        projectKiB: round(graph.bytes / 1024, 1),
        packages: graph.packages,
      },
      imports: [...aggregates, ...singles],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A module hook for `node --import`: every file loaded, ES (load hook) and CommonJS (the cache at exit). */
function writeLoadHook(dir: string): { register: string; out: string } {
  const out = path.join(dir, 'loaded.txt');
  writeFileSync(
    path.join(dir, 'load-hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return nextLoad(url, context);
}
`,
  );
  const register = path.join(dir, 'load-register.mjs');
  writeFileSync(
    register,
    `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('./load-hooks.mjs', import.meta.url);
process.on('exit', () => {
  const files = Object.keys(Module._cache).map((file) => pathToFileURL(file).href);
  appendFileSync(${JSON.stringify(out)}, files.join('\\n') + '\\n');
});
`,
  );
  return { register: pathToFileURL(register).href, out };
}

/** The files one run of `command` loads (each once), and their size. */
async function countLoaded(
  command: Command,
  hook: { register: string; out: string },
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ modules: number; kib: number }> {
  writeFileSync(hook.out, '');
  await runOnce(['--import', hook.register, ...command.args], env, cwd, command.exitCode);
  const files = new Set(
    readFileSync(hook.out, 'utf8')
      .split('\n')
      .filter(
        (url) =>
          url.startsWith('file:') && !url.endsWith('/load-hooks.mjs') && !url.endsWith('/load-register.mjs'),
      ),
  );
  let bytes = 0;
  for (const url of files) bytes += statSync(new URL(url)).size;
  return { modules: files.size, kib: round(bytes / 1024, 1) };
}

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/gm;

/**
 * The static (eager) import graph from `entry` through the project's compiled modules: how many
 * modules and bytes, which packages it imports, and for each the chain of modules that leads to it
 * (breadth first: a shortest one). Dynamic import() is lazy and is not followed.
 */
export function importGraph(
  entry: string,
  root: string,
): { modules: number; bytes: number; packages: string[]; via: Map<string, string[]> } {
  const rel = (file: string) => path.relative(root, file);
  const seen = new Set<string>([entry]);
  const via = new Map<string, string[]>([[rel(entry), [rel(entry)]]]);
  const packages = new Set<string>();
  const queue = [entry];
  let bytes = 0;
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = readFileSync(file, 'utf8');
    bytes += statSync(file).size;
    const chain = via.get(rel(file)) ?? [rel(file)];
    for (const match of text.matchAll(STATIC_IMPORT)) {
      const specifier = match[1]!;
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), specifier);
        if (seen.has(target) || !existsSync(target)) continue;
        seen.add(target);
        via.set(rel(target), [...chain, rel(target)]);
        queue.push(target);
        continue;
      }
      const name = packageName(specifier);
      if (!packages.has(name)) {
        packages.add(name);
        via.set(name, chain);
      }
    }
  }
  return { modules: seen.size, bytes, packages: [...packages].sort(), via };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
