/**
 * Issue 9 item 7, as an attacker and an auditor do it, with real posbridge processes and a real
 * SQLite file: an attacker who can write the audit trail deletes the last runs with SQL and
 * rewrites the head record. The chain alone cannot see it (`history --verify` still says intact);
 * an anchor kept elsewhere does: the head printed on the run's own report (`--expect-head`), or
 * the witness file the daemon appends each new head to (`audit.witness`). A trail removed or
 * emptied is no longer "no audit trail yet" once a witness holds heads.
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv, MERCHANT, STACK_LINE, TERMINAL } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_SHORT_TIMEOUT_MS as E2E_TIMEOUT_MS } from '../support/constants.js';

const ANCHOR = /^(\d+):([0-9a-f]{64})$/;

let dir: string;
let env: NodeJS.ProcessEnv;
const children = new Children();

beforeEach(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'pb-e2e-anchor-'));
  env = cleanEnv(dir);
});
afterEach(async () => {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function posbridge(args: string[], input = '', extraEnv: NodeJS.ProcessEnv = {}) {
  return runCliProcess(args, { cwd: dir, env: { ...env, ...extraEnv }, input });
}

/** `posbridge provision --json` of an unpaced mock terminal; returns the report. */
async function provision(name: string, extra: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) {
  const run = await posbridge(
    [
      'provision',
      '--port',
      `mock://${name}?sn=${name.toUpperCase()}&baud=0&diag-time-scale=0`,
      '--merchant',
      MERCHANT,
      '--terminal',
      TERMINAL,
      '--admin-password-stdin',
      '--credentials-out',
      join(dir, `${name}-creds.txt`),
      '--json',
      ...extra,
    ],
    `${ADMIN_PASSWORD}\n`,
    extraEnv,
  );
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as { outcome: string; auditHead: string };
}

/**
 * What an attacker with write access to the file does: drop the guard trigger, delete every row
 * after `keepSeq`, and point the head record at the last row kept, so the chain looks whole.
 */
function cutTrail(file: string, keepSeq: number): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER IF EXISTS events_no_delete');
  db.prepare('DELETE FROM events WHERE seq > ?').run(keepSeq);
  const last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as {
    seq: number;
    hash: string;
  };
  db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(JSON.stringify(last));
  db.close();
}

describe('an audit trail cut short with SQL', () => {
  it(
    'passes the chain check alone, and fails --expect-head with the head printed on the lost run',
    async () => {
      const first = await provision('pba');
      const second = await provision('pbb');
      expect(first.auditHead).toMatch(ANCHOR);
      expect(second.auditHead).toMatch(ANCHOR);
      const [, firstSeq] = ANCHOR.exec(first.auditHead)!;
      expect(Number(firstSeq)).toBeLessThan(Number(ANCHOR.exec(second.auditHead)![1]));

      // The head of the trail now is the head the second run's report carries.
      const head = await posbridge(['history', '--head']);
      expect(head.code).toBe(0);
      expect(head.stdout).toBe(`${second.auditHead}\n`);

      cutTrail(env.POSBRIDGE_AUDIT!, Number(firstSeq));

      // The hole: without an anchor the cut is invisible.
      const blind = await posbridge(['history', '--verify']);
      expect(blind.code, blind.stdout).toBe(0);
      expect(blind.stdout).toMatch(/^intact: /);

      // The first run's anchor is still in the trail; the second run's is not.
      expect((await posbridge(['history', '--verify', '--expect-head', first.auditHead])).code).toBe(0);
      const caught = await posbridge(['history', '--verify', '--expect-head', second.auditHead]);
      expect(caught.code, caught.stdout + caught.stderr).toBe(1);
      expect(caught.stdout).toContain('TAMPERED');
      expect(caught.stdout).toContain(second.auditHead);
      expect(caught.stdout).toMatch(/--expect-head/);
      expect(caught.stderr).not.toMatch(STACK_LINE);

      // The same, from a file of heads collected from reports (one per line), as JSON.
      const heads = join(dir, 'heads.txt');
      writeFileSync(heads, `# from the reports\n${first.auditHead}\n${second.auditHead}\n`);
      const json = await posbridge(['history', '--verify', '--expect-heads', heads, '--json']);
      expect(json.code).toBe(1);
      const doc = JSON.parse(json.stdout);
      expect(doc).toMatchObject({ kind: 'verify', ok: false, problem: { anchor: second.auditHead } });
      expect(doc.problem.source).toBe(`${heads} line 3`);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'is caught by the witness the daemon appends to, by default for the daemon trail; removing or emptying the trail too',
    async () => {
      const audit = join(dir, 'trail', 'audit.sqlite3');
      const witness = join(dir, 'elsewhere', 'heads.witness');
      const config = join(dir, 'daemon.yaml');
      const socket = join(dir, 'd.sock');
      writeFileSync(config, `ports: []\nwatch: []\naudit:\n  file: ${audit}\n  witness: ${witness}\n`);
      // The daemon's trail comes from its config here: no POSBRIDGE_AUDIT in its environment.
      const { POSBRIDGE_AUDIT: _unused, ...daemonEnv } = env;
      env = { ...daemonEnv, XDG_CONFIG_HOME: join(dir, 'config') };
      const daemonArgs = ['daemon', '--config', config, '--socket', socket];

      // A witness whose directory is missing (a share not mounted) is refused, not created locally.
      const unmounted = await runCliProcess(daemonArgs, { cwd: dir, env });
      expect(unmounted.code, unmounted.stderr).toBe(2);
      expect(unmounted.stderr).toContain(
        `cannot open the audit witness ${witness}: its directory does not exist`,
      );
      mkdirSync(dirname(witness));

      const daemon = children.spawn(daemonArgs, { cwd: dir, env });
      await daemon.waitForStdout(/listening on/, 'the daemon to listen');

      const first = await provision('pwa', ['--socket', socket]);
      const second = await provision('pwb', ['--socket', socket]);
      daemon.kill('SIGTERM');
      expect((await daemon.waitForExit()).code).toBe(0);

      // One line per head, the last one the head the last report carries.
      const lines = readFileSync(witness, 'utf8').split('\n').filter(Boolean);
      expect(lines.every((l) => ANCHOR.test(l))).toBe(true);
      expect(lines).toContain(first.auditHead);
      expect(lines.at(-1)).toBe(second.auditHead);
      expect(lines.map((l) => Number(ANCHOR.exec(l)![1]))).toEqual(lines.map((_, i) => i + 1));

      const verify = (...extra: string[]) =>
        posbridge(['history', '--verify', '--audit', audit, '--config', config, ...extra]);
      expect((await verify()).code).toBe(0);

      cutTrail(audit, Number(ANCHOR.exec(first.auditHead)![1]));
      expect((await verify('--witness', join(dir, 'no-heads-here'))).code).toBe(2); // named but missing
      const caught = await verify();
      expect(caught.code, caught.stdout + caught.stderr).toBe(1);
      expect(caught.stdout).toContain(`witness ${witness}`);
      const explicit = await posbridge(['history', '--verify', '--audit', audit, '--witness', witness]);
      expect(explicit.code).toBe(1);

      truncateSync(audit, 0);
      const emptied = await verify();
      expect(emptied.code).toBe(1);
      expect(emptied.stdout).toMatch(/emptied/);
      unlinkSync(audit);
      const removed = await verify();
      expect(removed.code).toBe(1);
      expect(removed.stdout).toMatch(/removed/);
      expect(removed.stdout).toContain(second.auditHead);

      // Without a witness, a missing trail is what it always was: none yet.
      const none = await posbridge(['history', '--verify', '--audit', audit]);
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/no audit trail yet/);
    },
    E2E_TIMEOUT_MS,
  );
});
