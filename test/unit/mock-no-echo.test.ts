/**
 * The mock terminal never quotes a word or value of a line that may hold a password back in an
 * error (docs/protocol.md §10, step 5): a person typing `login admin PW` into the console, or a
 * password typed where a key belongs, must not see it come back on the screen, in the trace or
 * in the mock's log. Lines that cannot hold one keep their helpful messages.
 */
import { describe, expect, it } from 'vitest';
import { MockHarness } from '../../src/mock-device/index.js';
import { mayHoldSecret, parseReply } from '../../src/protocol/index.js';
import { CONSOLE_PW as PW } from '../support/constants.js';

function replies(lines: string[], loggedIn = false): string[] {
  const host = new MockHarness().connect();
  if (loggedIn) host.send('LOGIN user=admin password=1234');
  return lines.flatMap((line) => host.write(`${line}\r\n`));
}

describe('mock terminal: no echo of a line that may hold a password', () => {
  it.each([
    ['a password as a bare word', `login admin ${PW}`],
    ['a password alone after the verb', `LOGIN ${PW}`],
    ['a password after the arguments', `LOGIN user=admin ${PW}`],
    ['a password with a space', `LOGIN user=admin password=${PW} and-more`],
    ['a password typed as user:password', `admin:${PW}`],
    ['user:password after the verb', `login admin:${PW}`],
    ['a password with = typed as a bare word', `LOGIN user=admin Qz7=Secret`],
    ['an upper-case key', `LOGIN user=admin PASSWORD=${PW}`],
    ['a misspelt key', `LOGIN user=admin pasword=${PW}`],
    ['a free form key', `LOGIN user=admin pw=${PW}`],
    ['PASSWD with bare words', `PASSWD ${PW} ${PW}x`],
    ['PASSWD with a stray word', `PASSWD old=1234 new=${PW} ${PW}`],
    ['USER-ADD with a stray word', `USER-ADD id=02 name=Ann perms=sale password=${PW} ${PW}`],
    ['SET with the account split by a space', 'SET key=settle.account value=6222 0202QZ7'],
    ['a bad quote', `LOGIN user=admin password="${PW}`],
    ['a bad escape', `LOGIN user=admin password="${PW}\\q"`],
    ['a bad ID', `@${PW} LOGIN`],
  ])('%s', (_, line) => {
    for (const loggedIn of [false, true]) {
      const [reply] = replies([line], loggedIn);
      expect(reply, line).toMatch(/^ERR code=(400|404) /);
      expect(reply, line).not.toContain('Qz7');
      expect(reply, line).not.toContain('QZ7');
      expect(reply, line).not.toContain('Secret');
      expect(parseReply(reply!).ok).toBe(true);
    }
  });

  it('names only an argument the command takes in key= (a repeated or missing one)', () => {
    expect(replies([`LOGIN user=admin password=${PW} password=x`])).toEqual([
      'ERR code=400 reason=syntax key=password msg="password given twice"',
    ]);
    expect(replies(['LOGIN user=admin'])).toEqual([
      'ERR code=400 reason=syntax key=password msg="LOGIN needs password="',
    ]);
    expect(replies([`LOGIN user=admin password="${PW}\\q"`])).toEqual([
      'ERR code=400 reason=syntax key=password msg="password: bad escape (use \\\\\\", \\\\\\\\ or \\\\xHH)"',
    ]);
    expect(replies([`LOGIN user=admin Pass=${PW}`])).toEqual([
      'ERR code=400 reason=syntax msg="a malformed argument name (a-z, then a-z 0-9 _ .)"',
    ]);
    expect(replies([`LOGIN user=admin pw=${PW}`])).toEqual([
      'ERR code=400 reason=syntax msg="LOGIN takes user= password= only"',
    ]);
    expect(replies([`login admin ${PW}`])).toEqual([
      'ERR code=400 reason=syntax msg="LOGIN takes no bare word: write user= password="',
    ]);
  });

  it('an unknown verb is echoed only when it looks like one (a password typed alone is not)', () => {
    expect(replies(['FROB'])).toEqual(['ERR code=404 reason=unknown-command msg="unknown command FROB"']);
    expect(replies(['LOGN user=admin password=x'])).toEqual([
      'ERR code=404 reason=unknown-command msg="unknown command LOGN"',
    ]);
    expect(replies([PW])).toEqual(['ERR code=404 reason=unknown-command msg="unknown command"']);
    expect(replies(['Secret2024'])).toEqual(['ERR code=404 reason=unknown-command msg="unknown command"']);
  });

  it('keeps quoting the words of a line that holds no secret', () => {
    expect(replies(['HELLO version=1'])).toEqual([
      'ERR code=400 reason=syntax key=version msg="HELLO takes no argument version"',
    ]);
    expect(replies(['STATUS now'])).toEqual(['ERR code=400 reason=syntax msg="unexpected word now"']);
    expect(replies(['HELLO proto=1 x'])).toEqual([
      'ERR code=400 reason=syntax msg="\\"x\\" is not key=value"',
    ]);
  });

  it('guards exactly the commands that take a secret, SET, and a line whose verb cannot be read', () => {
    expect(mayHoldSecret(undefined)).toBe(true);
    for (const verb of ['LOGIN', 'PASSWD', 'USER-ADD', 'SET'] as const)
      expect(mayHoldSecret(verb)).toBe(true);
    for (const verb of ['HELLO', 'STATUS', 'GET', 'DIAG', 'USER-SET', 'RESET'] as const)
      expect(mayHoldSecret(verb)).toBe(false);
  });
});
