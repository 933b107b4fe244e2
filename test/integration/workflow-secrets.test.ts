/**
 * docs/cli.md, "Secrets": secrets (passwords, bank account) never appear in argv, logs,
 * traces, audit records or error messages.
 *
 * Every command that handles a secret runs with distinctive secrets, a wire trace, the most verbose
 * log level, as JSON and for people, failing and succeeding; then every byte the runs wrote
 * (stdout, stderr, traces, any file in the scratch directory, and the mock terminal's own log) is
 * searched for each password used and the full settlement account. The one exception is the
 * owner-only file of generated operator passwords, which exists to hold them: its mode must be 0600.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FULL_PROFILE, FULL_PROFILE_ENV, OPERATOR_03_PW, writeProfile } from '../support/workflow-profile.js';
import { ADMIN_PW, type CliRun, OTHER_PW, SETTLE_ACCOUNT, workflowRigs } from '../support/workflow-rig.js';

const NEW_ADMIN_PW = 'Nx4-Adm1n-Rotated#';
const OP02_NEW_PW = 'Op02-Yv5-Secret%';
const OP04_PW = 'Op04-Qw9-Secret&';
/** The admin password before the rotation below: offered again as the current one, and refused. */
const STALE_ADMIN_PW = ADMIN_PW;

const newRig = workflowRigs();

describe('no secret leaks', () => {
  it('through stdout, stderr, traces, logs or any file, in any command', async () => {
    const rig = await newRig();
    const profile = await writeProfile(rig.path('profile.json'), FULL_PROFILE);
    const adminFile = rig.path('admin-password.input');
    await writeFile(adminFile, `${NEW_ADMIN_PW}\n`, { mode: 0o600 });
    const inputs = new Set([profile, adminFile]);
    const credentialsFiles = [rig.path('operator-passwords.txt'), rig.path('more-passwords.txt')];
    const verbose = (trace: string) => ['--trace', rig.path(trace), '--log-level', 'trace'];
    const runs: Array<[string, CliRun]> = [];
    const run = async (label: string, expected: number, result: Promise<CliRun>) => {
      const done = await result;
      expect(done.code, `${label}\n${done.stdout}${done.stderr}`).toBe(expected);
      runs.push([label, done]);
    };
    const port = 'mock://vault';
    const port2 = 'mock://vault2';
    rig.terminal(port);
    rig.terminal(port2);

    // provision: JSON with a JSON log, and for people with a pretty log; then a rejected password.
    await run(
      'provision --json',
      0,
      rig.provision(port, ['--profile', profile, '--json', ...verbose('provision.trace')], {
        env: FULL_PROFILE_ENV,
      }),
    );
    await run(
      'provision (people)',
      0,
      rig.provision(port2, ['--profile', profile, '--log-format', 'pretty', ...verbose('provision2.trace')], {
        env: FULL_PROFILE_ENV,
      }),
    );
    await run(
      'provision, wrong password',
      1,
      rig.provision(port2, ['--profile', profile, ...verbose('wrong.trace')], {
        env: FULL_PROFILE_ENV,
        password: OTHER_PW,
      }),
    );
    await run(
      'provision, wrong password --json',
      1,
      rig.provision(port2, ['--json', ...verbose('wrong2.trace')], { password: OTHER_PW }),
    );
    await run(
      'provision --dry-run',
      0,
      rig.provision(port, ['--dry-run', '--profile', profile, ...verbose('dry.trace')], {
        env: FULL_PROFILE_ENV,
      }),
    );

    // passwd: the admin's own, then an operator's; a weak one is refused before any byte.
    const passwd = (extra: string[], stdin: string) =>
      rig.cli(['passwd', '--port', port, '--admin-password-stdin', '--new-password-stdin', ...extra], {
        stdin,
      });
    await run(
      'passwd admin --json',
      0,
      passwd(['--json', ...verbose('passwd.trace')], `${ADMIN_PW}\n${NEW_ADMIN_PW}\n`),
    );
    await run(
      'passwd 02',
      0,
      passwd(['--user', '02', ...verbose('passwd02.trace')], `${NEW_ADMIN_PW}\n${OP02_NEW_PW}\n`),
    );
    await run('passwd weak', 2, passwd(['--json'], `${NEW_ADMIN_PW}\n123456\n`));
    await run(
      'passwd with the old admin password',
      1,
      passwd([...verbose('passwd-old.trace')], `${STALE_ADMIN_PW}\n${OP02_NEW_PW}\n`),
    );

    // operator add: a password on stdin, a generated one.
    await run(
      'operator add (stdin)',
      0,
      rig.cli(
        [
          'operator',
          'add',
          '--port',
          port,
          '--id',
          '04',
          '--name',
          'Night shift',
          '--perms',
          'sale',
          '--admin-password-stdin',
          '--password-stdin',
          ...verbose('op-add.trace'),
        ],
        { stdin: `${NEW_ADMIN_PW}\n${OP04_PW}\n` },
      ),
    );
    await run(
      'operator add --generate-password --json',
      0,
      rig.cli(
        [
          'operator',
          'add',
          '--port',
          port,
          '--id',
          '05',
          '--name',
          'Weekend',
          '--perms',
          'sale,query',
          '--generate-password',
          '--credentials-out',
          credentialsFiles[1]!,
          '--json',
          ...verbose('op-gen.trace'),
        ],
        { env: { POSBRIDGE_ADMIN_PASSWORD: NEW_ADMIN_PW } },
      ),
    );

    // diag, for people and as JSON, the admin password from a file.
    await run(
      'diag',
      0,
      rig.cli(['diag', '--port', port, '--admin-password-file', adminFile, ...verbose('diag.trace')]),
    );
    await run(
      'diag --json',
      0,
      rig.cli([
        'diag',
        '--port',
        port,
        '--admin-password-file',
        adminFile,
        '--json',
        ...verbose('diag2.trace'),
      ]),
    );

    // The audit trail of all that, as JSON and checked.
    await run('history --json', 0, rig.cli(['history', '--json']));
    await run('history --verify', 0, rig.cli(['history', '--verify']));

    // The runs did what they claim (so the scan below is over real work).
    const state = rig.ports.terminal(port).snapshot();
    expect(Object.keys(state.operators).sort()).toEqual(['01', '02', '03', '04', '05']);
    expect(state.settings['settle.account']).toBe(SETTLE_ACCOUNT);

    // Generated passwords: only in owner-only files.
    const generated: string[] = [];
    for (const file of credentialsFiles) {
      const listed = (await rig.files()).find((f) => f.path === file);
      expect(listed, file).toBeDefined();
      expect(listed!.mode, file).toBe(0o600);
      for (const match of (await readFile(file, 'utf8')).matchAll(/password=(\S+)/g))
        generated.push(match[1]!);
    }
    // 01 and 02 for each of the two terminals, and operator 05.
    expect(generated).toHaveLength(5);

    const secrets = [
      ADMIN_PW,
      NEW_ADMIN_PW,
      OTHER_PW,
      OPERATOR_03_PW,
      OP02_NEW_PW,
      OP04_PW,
      SETTLE_ACCOUNT,
      ...generated,
    ];
    const written: Array<[string, string]> = [];
    for (const [label, done] of runs) {
      written.push([`${label}: stdout`, done.stdout], [`${label}: stderr`, done.stderr]);
    }
    let traces = 0;
    for (const file of await rig.files()) {
      if (inputs.has(file.path) || credentialsFiles.includes(file.path)) continue;
      if (file.path.endsWith('.trace')) {
        traces++;
        expect(file.mode, file.path).toBe(0o600);
      }
      written.push([file.path, await readFile(file.path, 'latin1')]);
    }
    written.push(['the mock terminal log', JSON.stringify(rig.log.entries)]);
    written.push([
      'what the mock terminal recorded',
      JSON.stringify([rig.facts.requests(), rig.facts.executed()]),
    ]);
    expect(traces).toBe(12);
    expect(written.map(([where]) => where)).toContain(rig.path('audit.sqlite3'));

    for (const [where, text] of written) {
      for (const secret of secrets) expect(text.includes(secret), `${where} holds a secret`).toBe(false);
      // Also no run of the settlement account longer than its masked last four.
      expect(text.includes(SETTLE_ACCOUNT.slice(-8)), `${where} holds the account's last 8`).toBe(false);
    }

    // Nothing was written outside the scratch directory (the default --credentials-out is in the
    // state directory, XDG_STATE_HOME of the rig, never ./).
    expect(existsSync('posbridge-operator-passwords.txt')).toBe(false);

    // The traces and logs did record the exchanges, masked.
    const trace = await readFile(rig.path('provision.trace'), 'latin1');
    expect(trace).toMatch(/> @\d+ LOGIN user=admin password="?\*\*\*"? \*[0-9A-F]{4}/);
    expect(trace).toMatch(/> @\d+ SET key=settle.account value="?\*\*\*"?/);
    expect(trace).toMatch(/< @\d+ OK key=settle.account value="\*\*\*\*3445"/);
    const provisionLog = runs.find(([label]) => label === 'provision --json')![1].stderr;
    // --log-level trace: the wire lines are in the log too (masked, as checked above).
    expect(provisionLog).toMatch(/"line":"@\d+ LOGIN user=admin password=\\"\*\*\*\\"/);
  });
});
