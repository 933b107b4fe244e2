/**
 * The audit trail across processes: a writer killed with SIGKILL mid-run keeps every step it had
 * committed and the chain verifies; several processes appending to one file never fork the chain.
 *
 * The children run the real store: src/audit (and the one module it imports at run time,
 * src/host/secret.ts) is transpiled to a temporary directory, which gets a symlink to
 * node_modules so that better-sqlite3 resolves. test/support/audit-writer.mjs drives it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { deadline } from '../support/wait.js';

const root = resolve(import.meta.dirname, '../..');
const writer = join(root, 'test/support/audit-writer.mjs');
let work: string;
let moduleUrl: string;
const children: ChildProcess[] = [];

function transpile(from: string, to: string): void {
  const output = ts.transpileModule(readFileSync(from, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
    fileName: from,
  });
  writeFileSync(to, output.outputText);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'posbridge-audit-proc-'));
  const out = join(work, 'build');
  mkdirSync(join(out, 'audit'), { recursive: true });
  mkdirSync(join(out, 'host'), { recursive: true });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  const src = join(root, 'src/audit');
  for (const name of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    transpile(join(src, name), join(out, 'audit', name.replace(/\.ts$/, '.js')));
  }
  transpile(join(root, 'src/host/secret.ts'), join(out, 'host', 'secret.js'));
  // The one list of secret keys the scrubber shares with maskLine, and the coded-error base of
  // AuditError (leaf modules).
  mkdirSync(join(out, 'protocol'), { recursive: true });
  for (const leaf of ['secret-keys', 'coded-error'])
    transpile(join(root, `src/protocol/${leaf}.ts`), join(out, 'protocol', `${leaf}.js`));
  moduleUrl = pathToFileURL(join(out, 'audit', 'index.js')).href;
});

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Writer {
  child: ChildProcess;
  /** Steps the child said were committed (recordStep had returned). */
  committed: () => number;
  /** Resolves once `n` commits were reported. */
  reached: (n: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startWriter(file: string, count: number | 'forever', label: string): Writer {
  const child = spawn(process.execPath, [writer, moduleUrl, file, String(count), label], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let committed = 0;
  let buffered = '';
  let stderr = '';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const m = /^committed (\d+)$/.exec(line);
      if (m) committed = Number(m[1]);
    }
    for (const w of waiters.filter((w) => committed >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (done) => {
      child.on('exit', (code, signal) => done({ code, signal, stderr }));
    },
  );
  return {
    child,
    committed: () => committed,
    reached: (n) =>
      committed >= n
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ n, resolve })),
            exited.then((e) => {
              throw new Error(`writer exited (${e.code ?? e.signal}) before ${n} commits: ${e.stderr}`);
            }),
          ]),
    exited,
  };
}

describe('audit trail across processes', () => {
  it('keeps every committed step of a writer killed with SIGKILL mid-run, and the chain verifies', async () => {
    const file = join(work, 'killed.sqlite3');
    const w = startWriter(file, 'forever', 'killed');
    await deadline(w.reached(200), 'the writer to commit 200 steps', 15_000);
    w.child.kill('SIGKILL');
    const exit = await deadline(w.exited, 'the killed writer to exit');
    expect(exit.signal).toBe('SIGKILL');
    const reported = w.committed();

    const store = AuditStore.open(file, { readonly: true });
    try {
      const result = store.verify();
      expect(result.ok, result.problem?.message).toBe(true);
      const [run] = store.history();
      expect(run!.outcome).toBe('unfinished');
      // Every step it reported committed is there; a few more may have committed after the last
      // line was read, none is missing or duplicated.
      const numbers = run!.steps.map((s) => Number(/step (\d+)$/.exec(s.detail)![1]));
      expect(numbers.length).toBeGreaterThanOrEqual(reported);
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
      expect(result.rows).toBe(1 + numbers.length);
    } finally {
      store.close();
    }
  });

  it('lets three processes and this one append to one file without forking the chain', async () => {
    const file = join(work, 'shared.sqlite3');
    const perChild = 150;
    const writers = ['w1', 'w2', 'w3'].map((label) => startWriter(file, perChild, label));
    const store = AuditStore.open(file);
    try {
      const runId = store.startRun({ kind: 'diag', port: 'p', technician: 'parent', station: 's' });
      for (let i = 0; i < 50; i++) {
        store.recordDiagnostics(runId, [{ check: 'power', status: 'pass' }]);
      }
      store.finishRun(runId, { outcome: 'ok' });
      for (const w of writers) {
        const exit = await deadline(w.exited, 'a writer to finish', 15_000);
        expect(exit.code, exit.stderr).toBe(0);
      }
      const result = store.verify();
      expect(result.ok, result.problem?.message).toBe(true);
      // 3 × (start + 150 steps + finish) + (start + 50 diagnostics + finish)
      expect(result.rows).toBe(3 * (perChild + 2) + 52);
      const runs = store.history();
      expect(runs.map((r) => r.outcome).sort()).toEqual(['ok', 'provisioned', 'provisioned', 'provisioned']);
      for (const run of runs.filter((r) => r.kind === 'provision')) expect(run.steps).toHaveLength(perChild);
    } finally {
      store.close();
    }
  });
});
