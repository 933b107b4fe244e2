/**
 * `posbridge passwd` and `posbridge operator add|set|del|list` through runCli in-process, against
 * a provisioned mock terminal: each happy path, and one refusal each (by posbridge before anything
 * is sent, exit 2, or by the terminal, exit 1). Secrets come from stdin, one line each, admin first.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, CliHarness, STACK_LINE } from '../support/cli-inproc.js';

const PORT = 'mock://accounts';
let cli: CliHarness;
/** The admin password now on the terminal (passwd changes it). */
let admin = ADMIN_PASSWORD;

beforeAll(async () => {
  cli = new CliHarness();
  const run = await cli.provision(PORT);
  expect(run.code, run.stdout + run.stderr).toBe(0);
});
afterAll(() => {
  cli.dispose();
});

const operator = (action: string, ...args: string[]) => [
  'operator',
  action,
  '--port',
  PORT,
  '--admin-password-stdin',
  ...args,
];

interface Listed {
  operators: { id: string; name: string; perms: string[]; mustChange: boolean }[];
}

async function list(): Promise<Listed['operators']> {
  const run = await cli.run([...operator('list'), '--json'], `${admin}\n`);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Listed).operators;
}

describe('posbridge operator', () => {
  it('add: creates the operator (must change its password), refuses one that exists', async () => {
    const run = await cli.run(
      operator('add', '--id', '02', '--name', 'Cashier', '--perms', 'query,sale', '--password-stdin'),
      `${admin}\nCash-Desk-42\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^add 02: done\n/);
    expect(run.stdout).toMatch(/^ {2}02 {2}Cashier +sale,query +must change password$/m);
    expect(run.stdout + run.stderr).not.toContain('Cash-Desk-42');

    const again = await cli.run(
      operator('add', '--id', '02', '--name', 'Cashier', '--perms', 'sale', '--password-stdin'),
      `${admin}\nCash-Desk-43\n`,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: USER-ADD refused by the terminal: 409 exists/);
    expect(again.stderr).not.toMatch(STACK_LINE);
  });

  it('add --generate-password: the password goes to the credentials file (0600), never to the output', async () => {
    const file = join(cli.dir, 'generated.txt');
    const run = await cli.run(
      operator(
        'add',
        '--id',
        '04',
        '--name',
        'Night shift',
        '--perms',
        'sale',
        '--generate-password',
        '--credentials-out',
        file,
      ),
      `${admin}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    const [, password] = /operator=04 password=(\S+)\n$/.exec(readFileSync(file, 'utf8'))!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(run.stdout + run.stderr).not.toContain(password!);
  });

  it('add refuses a weak password before anything is sent (exit 2)', async () => {
    const run = await cli.run(
      operator('add', '--id', '05', '--name', 'Weak', '--perms', 'sale', '--password-stdin'),
      `${admin}\n111111\n`,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: the operator password .*\n {2}what to do: .*nothing was sent/);
    expect((await list()).map((o) => o.id)).not.toContain('05');
  });

  it('set: changes name and permissions; an unknown operator is refused by the terminal', async () => {
    const run = await cli.run(
      operator('set', '--id', '02', '--name', 'Head cashier', '--perms', 'sale,refund,query'),
      `${admin}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^set 02: done\n/);
    expect((await list()).find((o) => o.id === '02')).toMatchObject({
      name: 'Head cashier',
      perms: ['sale', 'refund', 'query'],
    });

    const unknown = await cli.run(operator('set', '--id', '77', '--perms', 'sale'), `${admin}\n`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: USER-SET refused by the terminal: 422 unknown-user\n/);
    const nothing = await cli.run(operator('set', '--id', '02'), `${admin}\n`);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/^error: give --name, --perms or both\n/);
  });

  it('del: removes the operator; deleting it again is refused by the terminal', async () => {
    const run = await cli.run(operator('del', '--id', '04'), `${admin}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^del 04: done\n/);
    expect((await list()).map((o) => o.id)).not.toContain('04');

    const again = await cli.run(operator('del', '--id', '04'), `${admin}\n`);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: USER-DEL refused by the terminal: 422 unknown-user\n/);
  });

  it('list: the operators, for people and as JSON; refused with a bad --id elsewhere (exit 2)', async () => {
    const run = await cli.run(operator('list'), `${admin}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^operators of sn PBM0000001:\n/);
    expect(run.stdout).toMatch(/^ {2}01 {2}Initial account /m);
    expect((await list()).map((o) => o.id)).toEqual(['01', '02']);
    const badId = await cli.run(operator('del', '--id', '2'), `${admin}\n`);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/^error: --id must be two digits 01-99, not "2"\n/);
  });

  it('list with a wrong admin password: refused (exit 1), and the password is not resent', async () => {
    const before = JSON.parse((await cli.run(['info', '--port', PORT, '--json'])).stdout);
    const run = await cli.run([...operator('list')], 'Not-The-Pass-1\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: the terminal rejected the admin password given \(\d+ attempts left\); posbridge never resends/,
    );
    expect(run.stderr).not.toContain('Not-The-Pass-1');
    const after = JSON.parse((await cli.run(['info', '--port', PORT, '--json'])).stdout);
    expect(after.status.attemptsLeft).toBe(before.status.attemptsLeft - 1);
    // A success resets the count.
    await list();
  });
});

describe('posbridge passwd', () => {
  it("sets an operator's password (who must change it at first login); an unknown operator is refused", async () => {
    const run = await cli.run(
      ['passwd', '--port', PORT, '--user', '02', '--admin-password-stdin', '--new-password-stdin'],
      `${admin}\nFresh-Op-Pass7\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('password of operator 02 (to change at first login) of sn PBM0000001: changed\n');
    expect((await list()).find((o) => o.id === '02')?.mustChange).toBe(true);

    const unknown = await cli.run(
      ['passwd', '--port', PORT, '--user', '42', '--admin-password-stdin', '--new-password-stdin'],
      `${admin}\nFresh-Op-Pass7\n`,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: PASSWD refused by the terminal: 422 unknown-user\n/);
    expect(unknown.stderr).not.toContain('Fresh-Op-Pass7');
  });

  it('changes the admin password; the old one no longer works, the new one does', async () => {
    const next = 'N3w-Adm1n-27';
    const run = await cli.run(
      ['passwd', '--port', PORT, '--admin-password-stdin', '--new-password-stdin', '--json'],
      `${admin}\n${next}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'passwd', user: 'admin', sn: 'PBM0000001' });
    expect(run.stdout).not.toContain(next);
    const old = admin;
    admin = next;
    expect((await cli.run(operator('list'), `${old}\n`)).code).toBe(1);
    await list(); // with the new one
  });

  it('refuses a weak or reused new password before anything is sent (exit 2)', async () => {
    for (const weak of ['123456', 'aaaaaaaa', admin]) {
      const run = await cli.run(
        ['passwd', '--port', PORT, '--admin-password-stdin', '--new-password-stdin'],
        `${admin}\n${weak}\n`,
      );
      expect(run.code, weak).toBe(2);
      expect(run.stderr).toMatch(
        /^error: the new password .*\n {2}what to do: choose another; nothing was sent\n$/,
      );
      expect(run.stderr).not.toContain(weak);
    }
    await list(); // the admin password is unchanged
  });

  it('refuses a bad --user and a missing new password (exit 2)', async () => {
    const badUser = await cli.run(
      ['passwd', '--port', PORT, '--user', 'root', '--admin-password-stdin'],
      `${admin}\n`,
    );
    expect(badUser.code).toBe(2);
    expect(badUser.stderr).toMatch(/^error: --user must be admin or two digits 01-99, not "root"\n/);
    const missing = await cli.run(['passwd', '--port', PORT, '--admin-password-stdin'], `${admin}\n`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no new password given\n {2}what to do: use --new-password-stdin/);
  });

  it('takes the secrets from files and the environment as well', async () => {
    const { writeFileSync } = await import('node:fs');
    const adminFile = join(cli.dir, 'admin.txt');
    writeFileSync(adminFile, `${admin}\n`, { mode: 0o600 });
    cli.env.POSBRIDGE_NEW_PASSWORD = 'Env-Op-Pass-88';
    try {
      const run = await cli.run([
        'passwd',
        '--port',
        PORT,
        '--user',
        '02',
        '--admin-password-file',
        adminFile,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe(''); // mode 0600: no warning
    } finally {
      delete cli.env.POSBRIDGE_NEW_PASSWORD;
    }
  });
});
