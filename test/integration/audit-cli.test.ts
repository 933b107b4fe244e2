/**
 * The audit trail as the CLI writes and reads it: every run and step of a provisioning recorded
 * with who, where and which terminal; `history --verify` passes, then catches an edited record;
 * `report` gives the acquirer one CSV row per run; no secret anywhere in the file.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';

const ADMIN = 'Audit-Adm1n-Pw!';
const ACCOUNT = 'CN99887766554433221100';

function captureIo(env: NodeJS.ProcessEnv, stdinText = ''): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  stdin.end(stdinText);
  return {
    stdout: {
      write: (t: string) => {
        out += t;
      },
    },
    stderr: {
      write: (t: string) => {
        err += t;
      },
    },
    stdin,
    env,
    out: () => out,
    err: () => err,
  };
}

describe('audit trail through the CLI', () => {
  it('records a provisioning, verifies, detects an edit, reports, and holds no secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pb-audit-cli-'));
    const audit = join(dir, 'audit.sqlite3');
    const profile = join(dir, 'profile.json');
    await writeFile(
      profile,
      JSON.stringify({ settings: { 'settle.account': ACCOUNT }, factoryOperator: 'delete' }),
    );
    const env = { ...process.env, POSBRIDGE_AUDIT: audit, POSBRIDGE_ADMIN_PASSWORD: ADMIN };
    const deps = productionDeps(captureIo(env), { defaults: { baud: 0, diagTimeScale: 0 } });
    const run = async (argv: string[]) => {
      const io = captureIo(env);
      const code = await runCli(argv, { ...deps, io, createLogger: deps.createLogger });
      return { code, out: io.out(), err: io.err() };
    };
    const provisionArgs = [
      'provision',
      '--port',
      'mock://audit',
      '--merchant',
      '822100052110023',
      '--terminal',
      '10023456',
    ];
    provisionArgs.push('--profile', profile, '--technician', 'alice', '--station', 'bench-3');
    expect((await run(provisionArgs)).code).toBe(0);
    expect((await run(provisionArgs)).code).toBe(0);

    const history = await run(['history', '--json', '--sn', 'PBM0000001']);
    expect(history.code).toBe(0);
    const runs = JSON.parse(history.out).runs as Array<Record<string, unknown>>;
    expect(runs.map((r) => r.outcome)).toEqual(['already-provisioned', 'provisioned']);
    const first = runs[1] as {
      technician: string;
      station: string;
      terminal: { sn: string };
      steps: Array<{ step: string; outcome: string }>;
    };
    expect(first).toMatchObject({ technician: 'alice', station: 'bench-3', terminal: { sn: 'PBM0000001' } });
    expect(first.steps.map((s) => `${s.step}:${s.outcome}`)).toContain('admin-password:done');

    expect((await run(['history', '--verify'])).code).toBe(0);
    const report = await run(['report', '--format', 'csv', '--include-mocks']);
    expect(report.out.split('\r\n').filter(Boolean)).toHaveLength(3); // header + two runs
    // Numbers as text for a spreadsheet: a WORD JOINER in front (docs/cli.md, "report").
    expect(report.out).toContain(
      'PBM0000001,PB-MOCK,mock://audit,\u2060822100052110023,\u206010023456,alice,bench-3',
    );

    const bytes = await readFile(audit);
    for (const secret of [ADMIN, ACCOUNT]) {
      expect(bytes.includes(Buffer.from(secret)), `audit file holds ${secret}`).toBe(false);
    }
    expect(bytes.includes(Buffer.from(ACCOUNT.slice(-4)))).toBe(true); // the last four, as the masked value

    // An auditor's nightmare: someone edits a step afterwards. The chain says where.
    const db = new Database(audit);
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type='trigger'").all() as Array<{
      name: string;
    }>) {
      db.exec(`DROP TRIGGER ${name}`);
    }
    db.prepare("UPDATE events SET payload = replace(payload, 'alice', 'mallory') WHERE seq = 1").run();
    db.close();
    const verify = await run(['history', '--verify']);
    expect(verify.code).toBe(1);
    expect(verify.out).toMatch(/TAMPERED: .*record 1/);
  });
});
