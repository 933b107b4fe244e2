/**
 * Start-up loads only what a command uses: building the command line (program.ts, compose.ts: what
 * main.ts loads for every command) imports none of the modules behind one command (zod schemas,
 * YAML, SQLite, serialport, the mock, the API client, the engine); each command imports those in
 * its action. The graph is the one Node loads: each file transpiled as the build does (type-only
 * imports gone), its static imports followed, `import()` not (it runs when the action does).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');

const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/gm;

interface Graph {
  /** src/-relative paths of the project modules loaded. */
  modules: Set<string>;
  /** Packages imported (node: built-ins left out), each with the chain of modules that leads to it. */
  packages: Map<string, string[]>;
}

const transpiled = new Map<string, string[]>();

/** The static imports of `file` as the build emits it (each file transpiled once per run). */
function staticImports(file: string): string[] {
  let specifiers = transpiled.get(file);
  if (!specifiers) {
    const js = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        isolatedModules: true,
      },
    }).outputText;
    specifiers = [...js.matchAll(STATIC_IMPORT)].map((m) => m[1]!);
    transpiled.set(file, specifiers);
  }
  return specifiers;
}

function eagerGraph(entry: string): Graph {
  const modules = new Set<string>([entry]);
  const via = new Map<string, string[]>([[entry, [entry]]]);
  const packages = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of staticImports(file)) {
      if (!specifier.startsWith('.')) {
        if (!specifier.startsWith('node:') && !packages.has(specifier))
          packages.set(specifier, [...via.get(file)!]);
        continue;
      }
      const target = relative(src, resolve(dirname(join(src, file)), specifier)).replace(/\.js$/, '.ts');
      if (!existsSync(join(src, target))) throw new Error(`${file} imports ${specifier}: no such module`);
      if (modules.has(target)) continue;
      modules.add(target);
      via.set(target, [...via.get(file)!, target]);
      queue.push(target);
    }
  }
  return { modules, packages };
}

/** Packages any command needs: the command line itself (pino loads on a logger's first line). */
const ALWAYS = ['commander'];

/** Modules one command needs and the others do not. */
const PER_COMMAND = [
  'host/engine.ts',
  'host/driver.ts',
  'host/ports/serial.ts',
  'audit/store.ts',
  'mock-device/terminal.ts',
  'daemon/api/client.ts',
  'daemon/api/server.ts',
  'daemon/config/load.ts',
  'daemon/port-manager/index.ts',
  'station/station.ts',
  'conformance/index.ts',
  'host/workflow/profile.ts',
  'host/workflow/profile-file.ts',
];

// Loading the TypeScript compiler itself takes seconds on a busy machine.
describe('building the command line loads no command’s modules', { timeout: 60_000 }, () => {
  for (const entry of ['cli/program.ts', 'cli/compose.ts']) {
    it(`${entry} imports no package but ${ALWAYS.join(' and ')}`, () => {
      const { packages } = eagerGraph(entry);
      const extra = [...packages].filter(([name]) => !ALWAYS.includes(name));
      expect(Object.fromEntries(extra)).toEqual({});
    });

    it(`${entry} reaches none of the engine, audit trail, mock, daemon, station or conformance modules`, () => {
      const { modules } = eagerGraph(entry);
      expect(PER_COMMAND.filter((m) => modules.has(m))).toEqual([]);
    });
  }
});

describe('what a command loads when it runs', { timeout: 60_000 }, () => {
  it('the engine (every terminal command) loads no YAML: reading a profile file stays with the commands that read one', () => {
    // zod it does load: the operation table it is derived from is its schemas (src/host/operations).
    const { packages, modules } = eagerGraph('host/engine.ts');
    expect([...packages.keys()].filter((p) => p === 'yaml')).toEqual([]);
    expect(modules.has('host/workflow/profile-file.ts')).toBe(false);
  });

  it('the composition root loads the API client and the daemon config only when a daemon answers or is run', () => {
    const { packages, modules } = eagerGraph('cli/runtime.ts');
    expect([...packages.keys()].filter((p) => p === 'yaml')).toEqual([]);
    expect(
      [
        'daemon/api/client.ts',
        'daemon/config/load.ts',
        'daemon/port-manager/index.ts',
        'station/index.ts',
      ].filter((m) => modules.has(m)),
    ).toEqual([]);
  });

  it('info (the runtime, the engine, a mock:// port, the info run) loads no zod, pino, YAML or SQLite, and no audit store', () => {
    // What `posbridge info --port mock://x` imports as it runs (test/e2e/cli-startup-modules.test.ts
    // watches the process itself); each entry's static graph, as Node loads it.
    const entries = [
      'cli/runtime.ts',
      'cli/runtime-config.ts',
      'cli/mock-ports.ts',
      'cli/logger.ts',
      'host/ports/registry.ts',
      'host/operations/runs.ts',
      'host/operations/info-run.ts',
    ];
    const packages = new Map<string, string[]>();
    const modules = new Set<string>();
    for (const entry of entries) {
      const graph = eagerGraph(entry);
      for (const [name, via] of graph.packages) packages.set(name, via);
      for (const module of graph.modules) modules.add(module);
    }
    const unwanted = ['zod', 'pino', 'yaml', 'better-sqlite3'];
    expect(Object.fromEntries([...packages].filter(([name]) => unwanted.includes(name)))).toEqual({});
    expect(
      [
        'audit/store.ts',
        'host/operations/index.ts',
        'host/workflow/provision.ts',
        'mock-device/state-schema.ts',
        'host/ports/telnet/factory.ts',
      ].filter((m) => modules.has(m)),
    ).toEqual([]);
  });
});
