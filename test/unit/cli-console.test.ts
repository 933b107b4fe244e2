/**
 * `posbridge console` with piped input, through runCli in-process against a mock:// terminal:
 * each typed line is shown as sent (with @ID and CRC, or exactly as typed with --raw) and then
 * its reply; a password typed in a LOGIN is masked on screen, in the history file and in the
 * trace; the console ends cleanly (exit 0) when its input ends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendCrc, splitCrc } from '../../src/protocol/index.js';
import { CliHarness } from '../support/cli-inproc.js';
import { rewriteLines } from '../support/hostile-terminal.js';

let cli: CliHarness;
beforeEach(() => {
  cli = new CliHarness();
});
afterEach(() => {
  cli.dispose();
});

const historyFile = () => join(cli.dir, 'state', 'posbridge', 'console_history');
/** The console's lines: `> ` sent, `< ` received. */
const lines = (stdout: string) => stdout.split('\n').filter((line) => line !== '');

describe('posbridge console', () => {
  it('adds an @ID and a CRC to each line and shows each reply, with the same ID and a good CRC', async () => {
    const run = await cli.run(['console', '--port', 'mock://c'], 'HELLO\nSTATUS\n');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const shown = lines(run.stdout);
    expect(shown).toHaveLength(4);
    const [helloSent, helloReply, statusSent, statusReply] = shown as [string, string, string, string];
    const id = /^> @(\d+) HELLO \*[0-9A-F]{4}$/.exec(helloSent)?.[1];
    expect(id, helloSent).toBeDefined();
    expect(helloReply).toMatch(
      new RegExp(`^< @${id} OK proto=1 model=PB-MOCK sn=PBM0000001 .* \\*[0-9A-F]{4}$`),
    );
    expect(statusSent).toMatch(new RegExp(`^> @${Number(id) + 1} STATUS \\*[0-9A-F]{4}$`));
    expect(statusReply).toMatch(new RegExp(`^< @${Number(id) + 1} OK state=factory .* \\*[0-9A-F]{4}$`));
    // Every CRC, sent and received, is right.
    for (const line of shown) {
      const text = line.slice(2);
      expect(splitCrc(text), line).toBeDefined();
      expect(appendCrc(text.replace(/ \*[0-9A-F]{4}$/, '')), line).toBe(text);
    }
  });

  it('--raw sends exactly the typed bytes (no @ID, no CRC), and replies come without a CRC', async () => {
    const trace = join(cli.dir, 'raw.trace');
    const typed = ['hello', 'STATUS  ', 'NOSUCH thing=1'];
    const run = await cli.run(
      ['console', '--port', 'mock://c', '--raw', '--trace', trace],
      `${typed.join('\n')}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual([
      '> hello',
      expect.stringMatching(/^< OK proto=1 model=PB-MOCK .*caps=[a-z,]+$/),
      '> STATUS  ',
      expect.stringMatching(/^< OK state=factory login=none .*factory_pw=admin,01$/),
      '> NOSUCH thing=1',
      expect.stringMatching(/^< ERR code=404 reason=unknown-command( [^*]*)?$/),
    ]);
    // The wire, as traced: the typed bytes went out unchanged.
    const sent = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => / > /.test(line))
      .map((line) => line.replace(/^\S+ > /, ''));
    expect(sent).toEqual(typed);
  });

  it('masks a password typed in a LOGIN on screen, in the history file and in the trace', async () => {
    const trace = join(cli.dir, 'console.trace');
    const secret = 'Hunter2-Secret';
    const run = await cli.run(
      ['console', '--port', 'mock://c', '--trace', trace],
      `LOGIN user=admin password=1234\nlogin user=admin password=${secret}\nSTATUS\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^> @\d+ LOGIN user=admin password="?\*\*\*"? \*[0-9A-F]{4}$/m);
    expect(run.stdout).toMatch(/^< @\d+ OK user=admin must_change=1 /m);
    expect(run.stdout).toMatch(/^> @\d+ login user=admin password="?\*\*\*"? /m);
    expect(run.stdout).toMatch(/^< @\d+ ERR code=401 reason=bad-credentials remaining=4 /m);

    const history = readFileSync(historyFile(), 'utf8');
    expect(history.split('\n')).toEqual([
      'LOGIN user=admin password="***"',
      'login user=admin password="***"',
      'STATUS',
      '',
    ]);
    const traced = readFileSync(trace, 'utf8');
    expect(traced).toMatch(/^\S+Z > @\d+ LOGIN user=admin password="?\*\*\*"? \*[0-9A-F]{4}$/m);
    expect(traced).toMatch(/^\S+Z < @\d+ OK user=admin must_change=1 \*[0-9A-F]{4}$/m);
    for (const text of [run.stdout, run.stderr, history, traced]) {
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/password=1234\b/);
    }
  });

  it('masks the free forms of a login or password change on screen, in the history file and in the trace', async () => {
    const trace = join(cli.dir, 'console.trace');
    const pw = 'Qz7-Secret';
    const typed = [
      `login admin ${pw}`,
      `LOGIN user=admin passwd=${pw}`,
      `login user=admin pass=${pw}`,
      `LOGIN pw=${pw}`,
      `login user=admin pwd=${pw}`,
      `LOGIN user=admin PASSWORD=${pw}`,
      `PASSWD old=${pw} new=${pw}2 confirm=${pw}2`,
      `passwd ${pw} ${pw}2`,
      `admin:${pw}`,
      `login admin:${pw}`,
      `password ${pw}`,
      `login admin password ${pw}`,
      `LGOIN user=admin password=${pw}`,
      `LOGN admin ${pw}`,
      `LOGIN user=admin password="${pw} with spaces"`,
      `LOGIN user=admin password=${pw} and more`,
    ];
    const run = await cli.run(['console', '--port', 'mock://c', '--trace', trace], `${typed.join('\n')}\n`);
    expect(run.code, run.stderr).toBe(0);
    const sent = lines(run.stdout).filter((line) => line.startsWith('> '));
    expect(sent).toHaveLength(typed.length);
    for (const line of sent) expect(line).toContain('***');
    expect(sent[0]).toMatch(/^> @\d+ login admin \*\*\* \*\?\?\?\?$/);
    expect(sent[8]).toMatch(/^> @\d+ admin:\*\*\* \*\?\?\?\?$/);
    expect(sent[10]).toMatch(/^> @\d+ password \*\*\* \*\?\?\?\?$/);
    const history = readFileSync(historyFile(), 'utf8');
    expect(history.split('\n')).toHaveLength(typed.length + 1);
    for (const text of [run.stdout, run.stderr, history, readFileSync(trace, 'utf8')]) {
      expect(text).not.toContain('Qz7');
      expect(text).not.toContain('Secret');
    }
  });

  it('hides a password the terminal quotes back in a reply, on screen and in the trace', async () => {
    const pw = 'Qz7-Secret';
    // A terminal that repeats the password it was given in its error message.
    const echoing = rewriteLines((words, fields, request) => {
      const given = request?.args.get('password');
      if (words[0] === 'ERR' && given)
        fields.set('msg', `password ${new TextDecoder().decode(given)} is wrong`);
    });
    const echo = new CliHarness({ diagTimeScale: 0, behaviours: [echoing] });
    try {
      const trace = join(echo.dir, 'console.trace');
      const run = await echo.run(
        ['console', '--port', 'mock://c', '--trace', trace],
        `LOGIN user=admin password=${pw}\n`,
      );
      expect(run.stdout).toMatch(
        /^< @\d+ ERR code=401 reason=bad-credentials remaining=4 msg="password \*\*\* is wrong"/m,
      );
      for (const text of [run.stdout, readFileSync(trace, 'utf8')]) expect(text).not.toContain(pw);
    } finally {
      echo.dispose();
    }
  });

  it('refuses to send a line whose password is the mask (a line recalled from the history): no attempt spent', async () => {
    const run = await cli.run(
      ['console', '--port', 'mock://c'],
      'LOGIN user=admin password="***"\nlogin admin ***\nSTATUS\n',
    );
    expect(run.code).toBe(0);
    expect(run.stderr.match(/not sent: its password is the mask \*\*\*/g)).toHaveLength(2);
    expect(lines(run.stdout).filter((line) => line.startsWith('> '))).toEqual([
      expect.stringMatching(/^> @\d+ STATUS /),
    ]);
    expect(run.stdout).toMatch(/attempts_left=5 /);
  });

  it('keeps the history between runs, and --no-history neither reads nor writes it', async () => {
    await cli.run(['console', '--port', 'mock://c'], 'HELLO\n');
    await cli.run(['console', '--port', 'mock://c', '--no-history'], 'STATUS\n');
    await cli.run(['console', '--port', 'mock://c'], 'STATUS\n');
    expect(readFileSync(historyFile(), 'utf8')).toBe('HELLO\nSTATUS\n');
  });

  it('"quit" ends the console; the lines after it are not sent', async () => {
    const run = await cli.run(['console', '--port', 'mock://c', '--raw'], 'HELLO\nquit\nSTATUS\n');
    expect(run.code).toBe(0);
    expect(lines(run.stdout).filter((line) => line.startsWith('>'))).toEqual(['> HELLO']);
  });

  it('an unreachable port is exit 3 with the usual error', async () => {
    const run = await cli.run(['console', '--port', '/dev/does-not-exist'], 'HELLO\n');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: no such port: \/dev\/does-not-exist\n/);
  });
});
