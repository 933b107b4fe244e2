/**
 * The provisioning workflow end to end, in-process (docs/cli.md, `posbridge provision`): a factory
 * terminal is provisioned from a profile file, a finished terminal is left exactly as it was, and
 * a dry run only reads. Every assertion that matters is on the terminal's own state.
 */
import { readFile, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import {
  expectProvisionedOverTheWire,
  expectProvisionedState,
  onlyJson,
  stepOutcomes,
} from '../support/workflow-expect.js';
import {
  DELETE_01_PROFILE,
  FULL_PROFILE,
  FULL_PROFILE_ENV,
  type ProfileDocument,
  writeProfile,
} from '../support/workflow-profile.js';
import { ADMIN_PW, SETTLE_ACCOUNT, withoutClock, workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

/** The verbs that change a terminal (TIME aside: the clock is set on every run). */
const CHANGING = ['PASSWD', 'INIT', 'SET', 'USER-ADD', 'USER-SET', 'USER-DEL', 'RESET'];

describe('a factory terminal is provisioned', () => {
  it.each([
    ['a JSON profile that keeps operator 01', 'profile.json', FULL_PROFILE],
    ['a YAML profile that deletes operator 01', 'profile.yaml', DELETE_01_PROFILE],
  ] as Array<[string, string, ProfileDocument]>)('from %s', async (_what, file, profile) => {
    const rig = await newRig();
    const port = 'mock://shop1';
    const terminal = rig.terminal(port);
    expect(terminal.snapshot().admin.factoryPassword).toBe(true);
    const profilePath = await writeProfile(rig.path(file), profile);

    const run = await rig.provision(port, ['--profile', profilePath, '--json', '--name', 'Noodle Bar 7'], {
      env: FULL_PROFILE_ENV,
    });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('provisioned');
    expect(stepOutcomes(report)).toEqual({
      identify: 'done',
      login: 'done',
      'admin-password': 'done',
      bind: 'done',
      // A factory terminal's clock was never set (DIAG warns not_set until TIME): done.
      clock: 'done',
      settings: 'done',
      operators: 'done',
      'factory-operator': 'done',
      diagnostics: 'done',
      verify: 'done',
      logout: 'done',
    });
    // Diagnostics in the report: all twelve, all passing on a provisioned healthy terminal.
    expect(report.diagnostics?.results.map((r) => r.check)).toEqual([
      'power',
      'clock',
      'storage',
      'software',
      'keys',
      'network',
      'host',
      'printer',
      'msr',
      'icc',
      'nfc',
      'tamper',
    ]);
    expect(report.diagnostics).toMatchObject({ pass: 12, warn: 0, fail: 0 });
    expect(report.terminal).toEqual({ model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' });
    // The settlement account is stored in full and shown masked.
    const settings = report.steps.find((s) => s.step === 'settings')!;
    expect(settings.detail).toContain(`settle.account=****${SETTLE_ACCOUNT.slice(-4)}`);

    const state = terminal.snapshot();
    expectProvisionedState(state, profile);
    expect(state.binding?.name).toBe('Noodle Bar 7');
    expect(state.settings['settle.account']).toBe(SETTLE_ACCOUNT);
    expectProvisionedOverTheWire(rig, port, profile);

    // Generated first passwords (02, and 01 unless deleted) went to an owner-only file.
    const credentials = rig.path('operator-passwords.txt');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(credentials, 'utf8')).trim().split('\n');
    const ids = lines.map((l) => /operator=(\d\d)/.exec(l)?.[1]).sort();
    expect(ids).toEqual(profile.factoryOperator === 'delete' ? ['02'] : ['01', '02']);
    expect(report.credentialsFile).toBe(credentials);
    for (const line of lines) expect(line).toMatch(/ sn=PBM0000001 operator=\d\d password=\S{16}$/);

    // The audit record: who, where, which terminal, each step.
    const history = await rig.cli(['history', '--json']);
    expect(history.code).toBe(0);
    const [audited] = onlyJson<{ runs: Array<{ steps: Array<{ step: string }> }> }>(history.stdout).runs;
    expect(audited).toMatchObject({
      kind: 'provision',
      outcome: 'provisioned',
      technician: 'tech-tester',
      station: 'station-test',
    });
    expect(JSON.stringify(audited)).toContain('PBM0000001');
    expect(audited!.steps.map((s) => s.step)).toEqual(report.steps.map((s) => s.step));
  });

  it('prints the steps and a summary for people, and exits 0', async () => {
    const rig = await newRig();
    const port = 'mock://shop2';
    const terminal = rig.terminal(port);
    const profilePath = await writeProfile(rig.path('p.yml'), FULL_PROFILE);

    const run = await rig.provision(port, ['--profile', profilePath], { env: FULL_PROFILE_ENV });

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^provisioning mock:\/\/shop2 \.\.\.\n/);
    expect(run.stdout).toMatch(/admin-password +done +factory admin password replaced/);
    expect(run.stdout).toMatch(
      /operators +done +created 02 \(sale,query\); created 03 \(sale,refund,query,report\)/,
    );
    expect(run.stdout).toContain('PB-MOCK sn PBM0000001 fw 1.0.0: provisioned');
    expect(run.stdout).toContain('diagnostics: 12 pass, 0 warn, 0 fail');
    expectProvisionedState(terminal.snapshot(), FULL_PROFILE);
  });

  it('without a profile: numbers bound, admin and operator 01 passwords replaced, DIAG warns host not configured', async () => {
    const rig = await newRig();
    const port = 'mock://bare';
    const terminal = rig.terminal(port);

    const run = await rig.provision(port, ['--json']);

    expect(run.code).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('provisioned');
    expect(report.diagnostics?.results.find((r) => r.check === 'host')).toMatchObject({
      status: 'warn',
      code: 'not_configured',
    });
    expectProvisionedState(terminal.snapshot());
    expect(Object.keys(terminal.snapshot().operators)).toEqual(['01']);
  });
});

describe('an already provisioned terminal', () => {
  it('a rerun reports every changing step as already, sends no change and leaves the state byte-identical', async () => {
    const rig = await newRig();
    const port = 'mock://done';
    const terminal = rig.terminal(port);
    const profilePath = await writeProfile(rig.path('p.json'), FULL_PROFILE);
    const first = await rig.provision(port, ['--profile', profilePath, '--name', 'Noodle Bar 7'], {
      env: FULL_PROFILE_ENV,
    });
    expect(first.code).toBe(0);
    const before = terminal.snapshot();
    rig.facts.clear();

    const again = await rig.provision(port, ['--profile', profilePath, '--name', 'Noodle Bar 7', '--json'], {
      env: FULL_PROFILE_ENV,
    });

    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    const report = onlyJson<ProvisionReport>(again.stdout);
    expect(report.outcome).toBe('already-provisioned');
    const outcomes = stepOutcomes(report);
    for (const step of ['admin-password', 'bind', 'clock', 'settings', 'operators', 'factory-operator'])
      expect(outcomes[step], step).toBe('already');
    expect(report.diagnostics?.fail).toBe(0);
    // Nothing but reads, a login, the clock and the write-only settlement account (written again
    // with the same value: it cannot be compared) reached the terminal.
    for (const verb of CHANGING) {
      const writes = rig.facts
        .executed()
        .filter((e) => e.verb === verb && !/ key=settle\.account /.test(e.line));
      expect(writes, verb).toEqual([]);
    }
    expect(rig.facts.executions('SET', / key=settle\.account /)).toBe(1);
    expect(rig.facts.executions('LOGIN')).toBe(1);
    const after = terminal.snapshot();
    expect(JSON.stringify(withoutClock(after))).toBe(JSON.stringify(withoutClock(before)));
    expect(Math.abs(after.clock.offsetMs - before.clock.offsetMs)).toBeLessThan(2000);
  });

  it('says so for people too', async () => {
    const rig = await newRig();
    const port = 'mock://done2';
    expect((await rig.provision(port)).code).toBe(0);
    const again = await rig.provision(port);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already provisioned: nothing changed');
    expect(again.stdout).toMatch(/admin-password +already done/);
    expect(again.stdout).toMatch(/bind +already done/);
  });
});

describe('--dry-run', () => {
  it('prints the plan of a factory terminal, changes nothing and sends no LOGIN', async () => {
    const rig = await newRig();
    const port = 'mock://plan';
    const terminal = rig.terminal(port);
    const profilePath = await writeProfile(rig.path('p.json'), FULL_PROFILE);
    const before = terminal.snapshot();

    const run = await rig.provision(port, ['--profile', profilePath, '--dry-run'], { env: FULL_PROFILE_ENV });

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^planning mock:\/\/plan \.\.\.\n/);
    expect(run.stdout).toMatch(/login +would do +log in as admin with the factory password/);
    expect(run.stdout).toMatch(/admin-password +would do +replace the factory admin password/);
    expect(run.stdout).toMatch(/bind +would do +bind merchant 822100052110023 terminal 10023456/);
    expect(run.stdout).toMatch(/settings +would do/);
    expect(run.stdout).toMatch(/operators +would do +check and create 02, 03/);
    expect(run.stdout).toContain('dry run: nothing was changed');
    expect(terminal.snapshot()).toEqual(before);
    const verbs = rig.meter(port).verbs();
    expect(verbs).not.toContain('LOGIN');
    expect(verbs.filter((v) => !['HELLO', 'STATUS'].includes(v))).toEqual([]);
  });

  it('on a provisioned terminal: the plan says what is already done, and --json gives outcome planned', async () => {
    const rig = await newRig();
    const port = 'mock://plan2';
    const terminal = rig.terminal(port);
    expect((await rig.provision(port)).code).toBe(0);
    const before = terminal.snapshot();
    rig.meter(port).reset();

    const run = await rig.provision(port, ['--dry-run', '--json'], {
      password: null,
      env: { POSBRIDGE_ADMIN_PASSWORD: ADMIN_PW },
    });

    expect(run.code).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('planned');
    expect(stepOutcomes(report)).toMatchObject({
      login: 'planned',
      'admin-password': 'already',
      bind: 'already',
      'factory-operator': 'already',
    });
    expect(terminal.snapshot()).toEqual(before);
    expect(rig.meter(port).verbs()).not.toContain('LOGIN');
  });
});

describe('a rerun with a changed profile', () => {
  it('replaces a settlement account that only shares its last four digits with the new one', async () => {
    const rig = await newRig();
    const port = 'mock://account';
    const terminal = rig.terminal(port);
    const typo = '6222020200199993445';
    const first = await writeProfile(rig.path('a.json'), { settings: { 'settle.account': typo } });
    expect((await rig.provision(port, ['--profile', first])).code).toBe(0);
    expect(terminal.snapshot().settings['settle.account']).toBe(typo);
    const fixed = await writeProfile(rig.path('b.json'), { settings: { 'settle.account': SETTLE_ACCOUNT } });

    const run = await rig.provision(port, ['--profile', fixed, '--json']);

    expect(run.code).toBe(0);
    expect(terminal.snapshot().settings['settle.account']).toBe(SETTLE_ACCOUNT);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.steps.find((s) => s.step === 'settings')?.detail).toContain('settle.account written again');
  });

  it('updates the name and permissions of an existing operator, and a setting, and says what changed', async () => {
    const rig = await newRig();
    const port = 'mock://change';
    const terminal = rig.terminal(port);
    const first = await writeProfile(rig.path('a.json'), FULL_PROFILE);
    expect((await rig.provision(port, ['--profile', first], { env: FULL_PROFILE_ENV })).code).toBe(0);
    const changed: ProfileDocument = {
      ...FULL_PROFILE,
      settings: { ...FULL_PROFILE.settings, 'host.port': 9443 },
      operators: [
        { id: '02', name: 'Cashier Li (senior)', perms: ['sale', 'query', 'refund'] },
        FULL_PROFILE.operators![1]!,
      ],
    };
    const second = await writeProfile(rig.path('b.json'), changed);
    rig.facts.clear();

    const run = await rig.provision(port, ['--profile', second, '--json'], { env: FULL_PROFILE_ENV });

    expect(run.code).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.outcome).toBe('provisioned');
    expect(stepOutcomes(report)).toMatchObject({
      settings: 'done',
      operators: 'done',
      'admin-password': 'already',
    });
    expect(report.steps.find((s) => s.step === 'settings')?.detail).toMatch(/^set host\.port=9443/);
    expect(report.steps.find((s) => s.step === 'operators')?.detail).toBe('updated 02');
    expect(rig.facts.executions('USER-ADD')).toBe(0);
    expect(rig.facts.executions('PASSWD')).toBe(0);
    expectProvisionedState(terminal.snapshot(), changed);
  });
});

describe('operator 01 listed in the profile', () => {
  it('is renamed, its permissions narrowed, and given a first password that must be changed', async () => {
    const rig = await newRig();
    const port = 'mock://owner';
    const terminal = rig.terminal(port);
    const profile: ProfileDocument = {
      operators: [{ id: '01', name: 'Owner Zhang', perms: ['report', 'sale', 'query'] }],
      factoryOperator: 'delete', // ignored: 01 is listed, so it is kept
    };
    const path = await writeProfile(rig.path('p.json'), profile);

    const run = await rig.provision(port, ['--profile', path, '--json']);

    expect(run.code).toBe(0);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report.steps.find((s) => s.step === 'operators')?.detail).toBe('updated 01');
    expect(rig.facts.executions('USER-SET', /\bid=01\b/)).toBe(1);
    expect(rig.facts.executions('PASSWD', /\buser=01\b/)).toBe(1);
    expect(rig.facts.executions('USER-DEL')).toBe(0);
    expectProvisionedState(terminal.snapshot(), profile);
    const again = await rig.provision(port, ['--profile', path, '--json']);
    expect(onlyJson<ProvisionReport>(again.stdout).outcome).toBe('already-provisioned');
  });
});

describe('a terminal that cannot be provisioned as asked', () => {
  it('bound to other numbers: exit 1, no LOGIN, nothing changed', async () => {
    const rig = await newRig();
    const port = 'mock://other';
    const terminal = rig.terminal(port);
    const person = rig.byHand(port);
    person.send('LOGIN user=admin password=1234');
    person.send('PASSWD old=1234 new=Hand-Set-Pw-42');
    person.send('INIT merchant=999999999999999 terminal=99999999');
    person.close();
    const before = terminal.snapshot();
    rig.meter(port).reset();

    const run = await rig.provision(port);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /error: terminal PBM0000001 is already bound to merchant 999999999999999 terminal 99999999, not 822100052110023\/10023456/,
    );
    expect(rig.meter(port).verbs()).toEqual(['HELLO', 'STATUS']);
    expect(terminal.snapshot()).toEqual(before);
  });

  it('a failing self-test: provisioned all the same, exit 1, the failure and its remedy reported', async () => {
    const rig = await newRig();
    const port = 'mock://paper?diag-fail=printer:paper_out';
    const terminal = rig.terminal(port);

    const run = await rig.provision(port);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/diagnostics +FAILED +12 checks: 10 pass, 1 warn, 1 fail/);
    expect(run.stdout).toMatch(/printer +fail paper_out: .+/);
    expectProvisionedState(terminal.snapshot());
    const json = await rig.provision(port, ['--json']);
    expect(json.code).toBe(1);
    const report = onlyJson<ProvisionReport>(json.stdout);
    expect(report.outcome).toBe('already-provisioned');
    expect(report.diagnostics?.results.find((r) => r.check === 'printer')).toMatchObject({
      status: 'fail',
      code: 'paper_out',
    });
  });
});
