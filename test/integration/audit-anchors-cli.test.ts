/**
 * Issue 9 item 7 through the CLI, in-process with the production composition: every provision
 * and station report (text, JSON, JUnit, the acquirer's CSV) carries the audit head after its
 * run, a failure without a report names its record too, `history --head` prints the head, and
 * `history --verify` checks heads from flags, files and the in-process witness
 * (POSBRIDGE_AUDIT_WITNESS), with the documented exit codes for bad input.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CliHarness, MERCHANT, STACK_LINE } from '../support/cli-inproc.js';
import { junitCaseFields, parseXml } from '../unit/station-xml.helper.js';

const ANCHOR = /^\d+:[0-9a-f]{64}$/;
let cli: CliHarness;

beforeEach(() => {
  cli = new CliHarness({ baud: 0, diagTimeScale: 0 });
});
afterEach(() => cli.dispose());

async function head(): Promise<string> {
  const run = await cli.run(['history', '--head']);
  expect(run.code).toBe(0);
  return run.stdout.trim();
}

/** Deletes the last rows and rewrites the head record to match, as an attacker would. */
function cutAfter(seq: number): void {
  const db = new Database(cli.env.POSBRIDGE_AUDIT!);
  db.exec('DROP TRIGGER events_no_delete');
  db.prepare('DELETE FROM events WHERE seq > ?').run(seq);
  const last = db.prepare('SELECT seq, hash FROM events WHERE seq = ?').get(seq);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(JSON.stringify(last));
  db.close();
}

describe('reports carry the audit head after their run', () => {
  it('provision: JSON and text name the head, the one history --head prints right after', async () => {
    const json = await cli.provision('mock://p1', ['--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { auditHead: string };
    expect(report.auditHead).toMatch(ANCHOR);
    expect(await head()).toBe(report.auditHead);

    const text = await cli.provision('mock://p1'); // the rerun: already provisioned
    expect(text.code).toBe(0);
    const printed = /^ {2}audit head (\S+)$/m.exec(text.stdout)?.[1];
    expect(printed).toBe(await head());
    expect(printed).not.toBe(report.auditHead);
  });

  it('a provisioning that fails before any report still names its record (JSON and text)', async () => {
    const port = join(cli.dir, 'no-such-tty');
    const json = await cli.provision(port, ['--json']);
    expect(json.code).toBe(3);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; auditHead: string } };
    expect(error.code).toBe('PORT_NOT_FOUND');
    expect(error.auditHead).toBe(await head());
    const history = JSON.parse((await cli.run(['history', '--json'])).stdout) as {
      runs: Array<{ outcome: string; auditHead: string }>;
    };
    expect(history.runs[0]).toMatchObject({ outcome: 'failed', auditHead: error.auditHead });

    const text = await cli.provision(port);
    expect(text.code).toBe(3);
    expect(text.stderr).toContain(`audit head ${await head()}\n`);
    expect(text.stderr).not.toMatch(STACK_LINE);
  });

  it('station: each row and the run (JSON, text, JUnit); the acquirer CSV and JSON per run', async () => {
    const manifest = join(cli.dir, 'terminals.csv');
    writeFileSync(
      manifest,
      `sn,merchant,terminal\nPBA0001,${MERCHANT},30000001\nPBA0002,${MERCHANT},30000002\n`,
    );
    const junit = join(cli.dir, 'station.xml');
    const args = ['station', '--manifest', manifest, '--admin-password-stdin'];
    args.push('--port', 'mock://s1?sn=PBA0001', '--port', 'mock://s2?sn=PBA0002', '--junit', junit);
    args.push('--credentials-out', join(cli.dir, 'creds.txt'));
    const run = await cli.run([...args, '--json'], `${ADMIN_PASSWORD}\n`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      auditHead: string;
      rows: Array<{ sn: string; auditHead: string; report: { auditHead: string } }>;
    };
    const rowHeads = summary.rows.map((r) => r.auditHead);
    expect(rowHeads.every((h) => ANCHOR.test(h))).toBe(true);
    expect(summary.rows.map((r) => r.report.auditHead)).toEqual(rowHeads);
    expect(summary.auditHead).toBe(await head()); // the later of the two: nothing ran after
    expect(rowHeads).toContain(summary.auditHead);

    const suite = parseXml(readFileSync(junit, 'utf8')).children[0]!;
    const prop = (el: typeof suite) =>
      el.children.find((c) => c.name === 'properties')!.children.find((p) => p.attrs.name === 'audit-head')
        ?.attrs.value;
    expect(prop(suite)).toBe(summary.auditHead);
    // A case's audit head opens its system-out (the Jenkins schema has no testcase properties).
    expect(
      suite.children.filter((c) => c.name === 'testcase').map((c) => junitCaseFields(c)['audit-head']),
    ).toEqual(rowHeads);

    const again = await cli.run(args, `${ADMIN_PASSWORD}\n`); // text; both already provisioned
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`\n  audit head ${await head()}\n`);

    // The report lists runs by start; the two station runs race, so their heads may come in
    // either order: compare the sets, and the latest head with the chain's.
    const bySeq = (heads: string[]) =>
      [...heads].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    const csv = (await cli.run(['report', '--format', 'csv', '--include-mocks'])).stdout.trim().split('\r\n');
    expect(csv[0]!.split(',').at(-1)).toBe('auditHead');
    expect(bySeq(csv.slice(1, 3).map((line) => line.split(',').at(-1)!))).toEqual(bySeq(rowHeads));
    const json = JSON.parse(
      (await cli.run(['report', '--format', 'json', '--include-mocks'])).stdout,
    ) as Array<{
      auditHead: string;
      sn: string;
      port: string;
      outcome: string;
    }>;
    expect(bySeq(json.map((r) => r.auditHead)).at(-1)).toBe(await head());
    // The acquirer's port and outcome are the station's, row for row.
    const stationRows = (
      JSON.parse(run.stdout) as { rows: Array<{ sn: string; port: string; outcome: string }> }
    ).rows;
    for (const row of stationRows)
      expect(
        json.find((r) => r.auditHead === summary.rows.find((s) => s.sn === row.sn)!.auditHead),
      ).toMatchObject({ sn: row.sn, port: row.port, outcome: row.outcome });
  });
});

describe('history --head and --verify with anchors', () => {
  it('an empty trail has the empty head; --head and --verify go separately', async () => {
    const empty = await cli.run(['history', '--head', '--json']);
    expect(JSON.parse(empty.stdout)).toMatchObject({ kind: 'head', present: false, seq: 0 });
    expect((await cli.run(['history', '--head'])).stdout).toBe(`0:${'0'.repeat(64)}\n`);
    const both = await cli.run(['history', '--head', '--verify']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--head and --verify go separately/);
  });

  it('bad heads are usage errors naming the flag, the file and the line (exit 2)', async () => {
    await cli.provision('mock://v1');
    const flag = await cli.run(['history', '--verify', '--expect-head', '12:zz']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--expect-head: "12:zz" is not a head: expected SEQ:HASH/);
    const heads = join(cli.dir, 'heads.txt');
    writeFileSync(heads, `${await head()}\nnot a head\n`);
    const file = await cli.run(['history', '--expect-heads', heads]); // implies --verify
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(`${heads}: line 2: "not a head" is not a head`);
    const missing = await cli.run(['history', '--verify', '--expect-heads', join(cli.dir, 'none.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/none\.txt does not exist/);
    const directory = await cli.run(['history', '--verify', '--witness', cli.dir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(`cannot read the heads in ${cli.dir}: it is a directory`);
    writeFileSync(heads, `${await head()}\n`);
    const good = await cli.run(['history', '--expect-heads', heads]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(`holds the head kept elsewhere (${heads})`);
  });

  it('POSBRIDGE_AUDIT_WITNESS: the in-process engine appends each head; verify uses it by default', async () => {
    const witness = join(cli.dir, 'heads.witness');
    cli.env.POSBRIDGE_AUDIT_WITNESS = witness;
    const first = JSON.parse((await cli.provision('mock://w1', ['--json'])).stdout).auditHead as string;
    const second = JSON.parse((await cli.provision('mock://w2', ['--json'])).stdout).auditHead as string;
    const lines = readFileSync(witness, 'utf8').trim().split('\n');
    expect(lines.at(-1)).toBe(second);
    expect(lines).toContain(first);
    expect((await cli.run(['history', '--verify'])).code).toBe(0);

    cutAfter(Number.parseInt(first, 10));
    const caught = await cli.run(['history', '--verify', '--json']);
    expect(caught.code).toBe(1);
    const doc = JSON.parse(caught.stdout);
    expect(doc.problem).toMatchObject({
      kind: 'anchor-mismatch',
      source: `witness ${witness} line ${lines.indexOf(first) + 2}`,
    });
    // Another trail is not checked against this one's witness.
    const other = await cli.run(['history', '--verify', '--audit', join(cli.dir, 'other.sqlite3')]);
    expect(other.code).toBe(0);
  });

  it("the daemon config's audit.witness, from its default location, when it pairs with the trail", async () => {
    const first = JSON.parse((await cli.provision('mock://d1', ['--json'])).stdout).auditHead as string;
    await cli.provision('mock://d2');
    const witness = join(cli.dir, 'daemon.witness');
    writeFileSync(witness, `${first}\n${await head()}\n`); // as the daemon writes it
    mkdirSync(join(cli.env.XDG_CONFIG_HOME!, 'posbridge'), { recursive: true });
    writeFileSync(
      join(cli.env.XDG_CONFIG_HOME!, 'posbridge', 'daemon.yaml'),
      `audit: { file: ${cli.env.POSBRIDGE_AUDIT}, witness: ${witness} }\n`,
    );
    expect((await cli.run(['history', '--verify'])).code).toBe(0);
    cutAfter(Number.parseInt(first, 10));
    const caught = await cli.run(['history', '--verify']);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`(from witness ${witness} line 2)`);
  });

  it('a witness that fails during the run (disk full) is a warning: the provisioning completes', async () => {
    cli.env.POSBRIDGE_AUDIT_WITNESS = '/dev/full';
    const run = await cli.provision('mock://f1');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/: provisioned\n/);
    const auditHead = /audit head (\S+)/.exec(run.stdout)![1];
    expect(run.stderr).toContain(
      `warning: cannot append head ${auditHead} to the audit witness /dev/full: ENOSPC\n`,
    );
    delete cli.env.POSBRIDGE_AUDIT_WITNESS;
    expect((await cli.run(['history', '--verify', '--expect-head', auditHead!])).code).toBe(0);
  });

  it('a witness that cannot be opened stops the command before the terminal or the trail is touched', async () => {
    cli.env.POSBRIDGE_AUDIT_WITNESS = join(cli.dir, 'unmounted', 'heads');
    const run = await cli.provision('mock://x1');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /cannot open the audit witness .*unmounted\/heads: its directory does not exist/,
    );
    expect(existsSync(cli.env.POSBRIDGE_AUDIT!)).toBe(false);
    delete cli.env.POSBRIDGE_AUDIT_WITNESS;
    const info = await cli.run(['info', '--port', 'mock://x1', '--json']);
    expect(JSON.parse(info.stdout).status.factoryPw).toEqual(['admin', '01']); // still in factory state
  });
});
