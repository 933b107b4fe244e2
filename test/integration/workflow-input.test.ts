/**
 * Bad input from the user is a usage error (exit 2) that names the problem before any byte reaches
 * the terminal (docs/cli.md, "Exit codes": "Bad input ... gets a clear error naming the problem"; the profile is
 * "validated at the boundary ... before any byte is sent"). And --json prints exactly one JSON
 * document on stdout, whatever happens.
 */
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ProvisionReport } from '../../src/host/workflow/report.js';
import { onlyJson } from '../support/workflow-expect.js';
import {
  FULL_PROFILE,
  FULL_PROFILE_ENV,
  type ProfileDocument,
  writeProfile,
} from '../support/workflow-profile.js';
import { ADMIN_PW, MERCHANT, TERMINAL, type WorkflowRig, workflowRigs } from '../support/workflow-rig.js';

const newRig = workflowRigs();

const PORT = 'mock://untouched';

/** The terminal behind PORT saw no connection and not one byte. */
function expectUntouched(rig: WorkflowRig): void {
  const meter = rig.meter(PORT);
  expect(meter.total).toBe(0);
  expect(meter.connections.size).toBe(0);
  expect(rig.facts.requests()).toEqual([]);
  expect(rig.ports.binding.isOpen(PORT)).toBe(false);
}

function provisionArgs(rig: WorkflowRig, merchant: string, terminal: string, extra: string[] = []): string[] {
  return [
    'provision',
    '--port',
    PORT,
    '--merchant',
    merchant,
    '--terminal',
    terminal,
    '--admin-password-stdin',
    // Should a run get as far as generating a password, it must not land in the working directory.
    '--credentials-out',
    rig.path('operator-passwords.txt'),
    ...extra,
  ];
}

describe('bad numbers', () => {
  it.each([
    ['a 14-digit merchant', '82210005211002', TERMINAL, /--merchant must be 15 digits, not "82210005211002"/],
    ['a 16-digit merchant', '8221000521100231', TERMINAL, /--merchant must be 15 digits/],
    [
      'a merchant with letters',
      '82210005211O023',
      TERMINAL,
      /--merchant must be 15 digits, not "82210005211O023"/,
    ],
    ['a 7-digit terminal', MERCHANT, '1002345', /--terminal must be 8 digits, not "1002345"/],
    ['a terminal with letters', MERCHANT, '1002345X', /--terminal must be 8 digits, not "1002345X"/],
  ])('%s: exit 2 before any byte is sent', async (_label, merchant, terminal, message) => {
    const rig = await newRig();
    rig.terminal(PORT);
    const run = await rig.cli(provisionArgs(rig, merchant, terminal), { stdin: `${ADMIN_PW}\n` });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('nothing was sent');
    expect(run.stdout).toBe('');
    expectUntouched(rig);
  });

  it('a name over 40 bytes: exit 2', async () => {
    const rig = await newRig();
    rig.terminal(PORT);
    const run = await rig.cli(provisionArgs(rig, MERCHANT, TERMINAL, ['--name', '面'.repeat(14)]), {
      stdin: `${ADMIN_PW}\n`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--name must be 1 to 40 bytes/);
    expectUntouched(rig);
  });
});

describe('weak new admin passwords', () => {
  it.each([
    ['123456', /well-known POS default/],
    ['aaaaaa', /repeat/],
    ['abcdef', /straight run|run/],
    ['12345', /6 to 32|at least 6|too short|6-32/],
  ])('%s: exit 2 before any byte is sent, the password not echoed', async (password, why) => {
    const rig = await newRig();
    rig.terminal(PORT);
    const run = await rig.cli(provisionArgs(rig, MERCHANT, TERMINAL), { stdin: `${password}\n` });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: the new admin password /);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).toContain('nothing was sent');
    expect(run.stderr).not.toContain(`"${password}"`);
    expectUntouched(rig);
  });

  it('from the environment too', async () => {
    const rig = await newRig();
    rig.terminal(PORT);
    const run = await rig.cli(
      provisionArgs(rig, MERCHANT, TERMINAL).filter((a) => a !== '--admin-password-stdin'),
      {
        env: { POSBRIDGE_ADMIN_PASSWORD: '654321' },
      },
    );
    expect(run.code).toBe(2);
    expectUntouched(rig);
  });
});

describe('bad profiles', () => {
  const cases: Array<[string, string, ProfileDocument | string, RegExp]> = [
    [
      'an unknown setting',
      'p.json',
      { settings: { 'net.colour': 'blue' } },
      /settings\.net\.colour: unknown setting/,
    ],
    ['a bad setting value', 'p.yaml', { settings: { 'host.port': 70000 } }, /settings\.host\.port: must be/],
    [
      'a lockout setting',
      'p.json',
      { settings: { 'lockout.max': 0 } },
      /lockout settings are not set by a profile/,
    ],
    [
      'a one-digit operator id',
      'p.json',
      { operators: [{ id: '2', name: 'Cashier', perms: ['sale'] }] },
      /operators\.0\.id: must be two digits 01-99/,
    ],
    [
      'operator id 00',
      'p.yml',
      { operators: [{ id: '00', name: 'Cashier', perms: ['sale'] }] },
      /operators\.0\.id: must be two digits 01-99/,
    ],
    [
      'an unknown permission',
      'p.json',
      { operators: [{ id: '02', name: 'Cashier', perms: ['sale', 'void'] }] },
      /operators\.0\.perms\.1/,
    ],
    [
      'an operator listed twice',
      'p.json',
      {
        operators: [
          { id: '02', name: 'A', perms: ['sale'] },
          { id: '02', name: 'B', perms: ['sale'] },
        ],
      },
      /operator 02 listed twice/,
    ],
    ['an unknown top-level key', 'p.json', { ...FULL_PROFILE, colour: 'blue' } as ProfileDocument, /colour/],
    ['an unknown diagnostic check', 'p.json', { diagChecks: ['printr'] }, /diagChecks\.0: unknown check/],
    ['no diagnostic check at all', 'p.json', { diagChecks: [] }, /diagChecks: must name at least one check/],
    ['a check named twice', 'p.yaml', { diagChecks: ['printer', 'printer'] }, /must not name a check twice/],
    ['invalid JSON', 'p.json', '{"settings": {', /profile .*p\.json is not valid JSON/],
    ['invalid YAML', 'p.yaml', 'settings: [unclosed', /profile .*p\.yaml is not valid YAML/],
  ];
  it.each(cases)(
    '%s: exit 2, the file and field named, nothing sent',
    async (_label, file, profile, message) => {
      const rig = await newRig();
      rig.terminal(PORT);
      const path = rig.path(file);
      if (typeof profile === 'string') await writeFile(path, profile);
      else await writeProfile(path, profile);
      const run = await rig.cli(provisionArgs(rig, MERCHANT, TERMINAL, ['--profile', path]), {
        stdin: `${ADMIN_PW}\n`,
        env: FULL_PROFILE_ENV,
      });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toMatch(message);
      expectUntouched(rig);
    },
  );

  it('a missing profile file, and an operator password variable that is not set: exit 2, nothing sent', async () => {
    const rig = await newRig();
    rig.terminal(PORT);
    const missing = await rig.cli(
      provisionArgs(rig, MERCHANT, TERMINAL, ['--profile', rig.path('nope.json')]),
      {
        stdin: `${ADMIN_PW}\n`,
      },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read profile .*nope\.json: ENOENT/);
    const profile = await writeProfile(rig.path('p.json'), FULL_PROFILE);
    const unset = await rig.cli(provisionArgs(rig, MERCHANT, TERMINAL, ['--profile', profile]), {
      stdin: `${ADMIN_PW}\n`,
    });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/operator 03 .*environment variable POSBRIDGE_TEST_OP03_PASSWORD/);
    expectUntouched(rig);
  });
});

describe('--json prints exactly one JSON document', () => {
  it('on success', async () => {
    const rig = await newRig();
    const run = await rig.provision('mock://j1', ['--json']);
    expect(run.code).toBe(0);
    expect(onlyJson<ProvisionReport>(run.stdout).outcome).toBe('provisioned');
  });

  it('on failure (a password the terminal rejects)', async () => {
    const rig = await newRig();
    expect((await rig.provision('mock://j2')).code).toBe(0);
    const run = await rig.provision('mock://j2', ['--json'], { password: 'Not-The-One-9' });
    expect(run.code).toBe(1);
    const report = onlyJson<ProvisionReport>(run.stdout);
    expect(report).toMatchObject({ outcome: 'failed', error: { code: 'BAD_CREDENTIALS' } });
  });

  it('on failure to reach the terminal (an unknown mock:// option, a cut cable)', async () => {
    const rig = await newRig();
    const bad = await rig.provision('mock://j3?colour=blue', ['--json']);
    expect(bad.code).toBe(2);
    expect(onlyJson<{ error: { code: string } }>(bad.stdout).error.code).toBe('USAGE');
    const port = 'mock://j4?fault=silent-after:bytes=300';
    rig.terminal(port);
    const cut = await rig.provision(port, ['--json']);
    expect(cut.code).toBe(3);
    expect(onlyJson<ProvisionReport>(cut.stdout)).toMatchObject({
      outcome: 'failed',
      error: { code: 'DISCONNECTED' },
    });
  });

  it('on a dry run', async () => {
    const rig = await newRig();
    const run = await rig.provision('mock://j5', ['--json', '--dry-run']);
    expect(run.code).toBe(0);
    expect(onlyJson<ProvisionReport>(run.stdout).outcome).toBe('planned');
  });

  it('on a usage error found by posbridge (bad merchant, weak password, bad profile)', async () => {
    const rig = await newRig();
    rig.terminal(PORT);
    const merchant = await rig.cli(provisionArgs(rig, '123', TERMINAL, ['--json']), {
      stdin: `${ADMIN_PW}\n`,
    });
    const weak = await rig.cli(provisionArgs(rig, MERCHANT, TERMINAL, ['--json']), { stdin: 'aaaaaa\n' });
    const profile = await writeProfile(rig.path('p.json'), { settings: { nope: 1 } });
    const badProfile = await rig.cli(
      provisionArgs(rig, MERCHANT, TERMINAL, ['--json', '--profile', profile]),
      {
        stdin: `${ADMIN_PW}\n`,
      },
    );
    for (const run of [merchant, weak, badProfile]) {
      expect(run.code).toBe(2);
      expect(onlyJson<{ error: { code: string; message: string } }>(run.stdout).error.code).toBe('USAGE');
      expect(run.stderr).toBe('');
    }
    expectUntouched(rig);
  });

  // A usage error found by commander (missing or unknown option, bad option value) is written
  // for people on stderr, and with --json also as the one JSON error document on stdout.
  it('on a usage error found by the option parser (missing --merchant, unknown option)', async () => {
    const rig = await newRig();
    for (const argv of [
      ['provision', '--port', PORT, '--terminal', TERMINAL, '--json'],
      ['provision', '--port', PORT, '--merchant', MERCHANT, '--terminal', TERMINAL, '--json', '--bogus'],
      [
        'provision',
        '--port',
        PORT,
        '--merchant',
        MERCHANT,
        '--terminal',
        TERMINAL,
        '--json',
        '--timeout',
        'x',
      ],
    ]) {
      const run = await rig.cli(argv, { stdin: `${ADMIN_PW}\n` });
      expect(run.code).toBe(2);
      expect(onlyJson<{ error: { code: string } }>(run.stdout).error.code).toBe('USAGE');
    }
  });
});
