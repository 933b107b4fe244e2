/**
 * Authorization, sessions, lockout and PASSWD, as docs/protocol.md's Decisions order them (§12-§14):
 * 401, 403 (before 428), 428, 422, 423, 409; PASSWD: 400, 401/403, confirm, unknown-user,
 * policy, lock, old.
 */
import { describe, expect, it } from 'vitest';
import { type HostSession, MockHarness } from '../../src/mock-device/index.js';

const NEW_ADMIN = 'Adm1n-Secret';

function setup() {
  const h = new MockHarness();
  return { h, host: h.connect() };
}

/** Logs in as the factory admin and replaces its password: an admin that may run everything. */
function admin(host: HostSession): void {
  expect(host.send('LOGIN user=admin password=1234')).toEqual(['OK user=admin must_change=1']);
  expect(host.send(`PASSWD old=1234 new=${NEW_ADMIN}`)).toEqual(['OK']);
}

function status(host: HostSession): Record<string, string> {
  const line = host.send('STATUS').find((l) => l.startsWith('OK '));
  return Object.fromEntries(
    line!
      .split(' ')
      .slice(1)
      .map((f) => f.split('=') as [string, string]),
  );
}

describe('mock terminal: authorization order', () => {
  it('needs a login for admin commands (401), before any value check', () => {
    const { host } = setup();
    for (const line of [
      'INIT merchant=1 terminal=2',
      'GET key=nope',
      'TIME',
      'USER-LIST',
      'DIAG',
      'REBOOT',
      'RESET confirm=x',
    ]) {
      expect(host.send(line), line).toEqual(['ERR code=401 reason=auth-required']);
    }
    expect(host.send('PASSWD old=1234 new=123')).toEqual(['ERR code=401 reason=auth-required']);
  });

  it('answers 403 to an operator before 428 and before 422', () => {
    const { host } = setup();
    expect(host.send('LOGIN user=01 password=123456')).toEqual(['OK user=01 must_change=1']);
    expect(host.send('INIT merchant=bad terminal=bad')).toEqual(['ERR code=403 reason=permission']);
    expect(host.send('USER-LIST')).toEqual(['ERR code=403 reason=permission']);
    expect(host.send('TIME')).toEqual(['ERR code=403 reason=permission']);
  });

  it('answers 428 while a password change is pending, before 422; PASSWD, LOGOUT, HELLO, STATUS still run', () => {
    const { host } = setup();
    host.send('LOGIN user=admin password=1234');
    expect(host.send('INIT merchant=bad terminal=12345678')).toEqual([
      'ERR code=428 reason=password-change-required',
    ]);
    expect(host.send('GET key=net.mode')).toEqual(['ERR code=428 reason=password-change-required']);
    expect(host.send('HELLO')[0]).toMatch(/^OK proto=1/);
    expect(status(host)).toMatchObject({ login: 'admin', must_change: '1' });
    expect(host.send('LOGOUT')).toEqual(['OK']);
    expect(host.send('LOGOUT')).toEqual(['OK']);
    expect(status(host)).toMatchObject({ login: 'none', must_change: '0' });
  });

  it('answers 422 before 409', () => {
    const { host } = setup();
    admin(host);
    expect(host.send('INIT merchant=123456789012345 terminal=12345678')).toEqual([
      'OK state=initialized changed=1',
      'EVT state state=initialized',
    ]);
    expect(host.send('INIT merchant=12345 terminal=87654321')[0]).toMatch(
      /^ERR code=422 reason=invalid-value key=merchant/,
    );
    expect(host.send('INIT merchant=999999999999999 terminal=87654321')[0]).toMatch(
      /^ERR code=409 reason=wrong-state/,
    );
  });
});

describe('mock terminal: LOGIN', () => {
  it('logs in the admin and operator 01 with the factory passwords', () => {
    const { host } = setup();
    expect(status(host)).toMatchObject({ factory_pw: 'admin,01', attempts_left: '5' });
    expect(host.send('@1 LOGIN user=01 password=123456')).toEqual(['@1 OK user=01 must_change=1']);
    expect(status(host)).toMatchObject({ login: '01', must_change: '1' });
  });

  it('counts a wrong password and an unknown user alike (no enumeration), and keeps the current login', () => {
    const { host } = setup();
    admin(host);
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=4',
    ]);
    expect(host.send('LOGIN user=42 password=whatever')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=3',
    ]);
    expect(host.send('LOGIN user=nobody password=x')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=2',
    ]);
    expect(status(host)).toMatchObject({ login: 'admin', attempts_left: '2' });
    expect(host.send(`LOGIN user=admin password=${NEW_ADMIN}`)).toEqual(['OK user=admin must_change=0']);
    expect(status(host)).toMatchObject({ attempts_left: '5' });
  });
});

describe('mock terminal: lockout', () => {
  function lockOut(host: HostSession, failures = 5): string[] {
    let last: string[] = [];
    for (let i = 0; i < failures; i++) last = host.send('LOGIN user=admin password=wrong');
    return last;
  }

  it('locks at lockout.max failures: remaining=0, then EVT lockout to every connection', () => {
    const { h, host } = setup();
    const other = h.connect();
    expect(lockOut(host)).toEqual([
      'ERR code=401 reason=bad-credentials remaining=0',
      'EVT lockout retry_after=300',
    ]);
    expect(other.lines()).toEqual(['EVT lockout retry_after=300']);
    expect(status(other)).toMatchObject({ locked: '1', attempts_left: '0' });
  });

  it('answers 423 while locked, even to the right password, without counting or extending', () => {
    const { h, host } = setup();
    lockOut(host);
    h.advance(100_000);
    expect(host.send('LOGIN user=admin password=1234')).toEqual([
      'ERR code=423 reason=locked retry_after=200',
    ]);
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=423 reason=locked retry_after=200',
    ]);
    h.advance(500);
    expect(host.send('LOGIN user=admin password=1234')).toEqual([
      'ERR code=423 reason=locked retry_after=200',
    ]);
    h.advance(199_400);
    expect(host.send('LOGIN user=admin password=1234')).toEqual(['ERR code=423 reason=locked retry_after=1']);
    h.advance(100);
    expect(host.send('LOGIN user=admin password=1234')).toEqual(['OK user=admin must_change=1']);
  });

  it('ends the lock after lockout.seconds and starts the count again', () => {
    const { h, host } = setup();
    lockOut(host);
    h.advance(300_000);
    expect(status(host)).toMatchObject({ locked: '0', attempts_left: '5' });
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=4',
    ]);
  });

  it('lets an existing login keep working while locked', () => {
    const { h, host } = setup();
    admin(host);
    const other = h.connect();
    lockOut(other);
    host.lines();
    expect(host.send('GET key=net.mode')).toEqual(['OK key=net.mode value=eth']);
    expect(status(host)).toMatchObject({ login: 'admin', locked: '1' });
  });

  it('survives a reconnect and a REBOOT; RESET clears it', () => {
    const { h, host } = setup();
    admin(host);
    const other = h.connect();
    lockOut(other);
    other.close();
    const again = h.connect();
    expect(status(again)).toMatchObject({ locked: '1' });
    host.lines();
    expect(host.send('REBOOT')).toEqual(['OK']);
    h.advance(500);
    expect(status(again)).toMatchObject({ locked: '1' });
    // The REBOOT ended the admin's login; a power cycle neither clears the lock.
    expect(again.send(`LOGIN user=admin password=${NEW_ADMIN}`)[0]).toMatch(/^ERR code=423/);
  });

  it('RESET clears the count and the lock', () => {
    const { h, host } = setup();
    admin(host);
    const other = h.connect();
    lockOut(other, 3);
    expect(status(other)).toMatchObject({ attempts_left: '2' });
    expect(host.send('RESET confirm=PBM0000001')).toEqual(['OK', 'EVT state state=factory']);
    expect(status(other)).toMatchObject({ attempts_left: '5', locked: '0' });
  });

  it('lockout.max=0 disables it: no remaining, no attempts_left, never locked', () => {
    const { host } = setup();
    admin(host);
    expect(host.send('SET key=lockout.max value=0')).toEqual(['OK key=lockout.max value=0']);
    for (let i = 0; i < 12; i++)
      expect(host.send('LOGIN user=01 password=bad')).toEqual(['ERR code=401 reason=bad-credentials']);
    const fields = status(host);
    expect(fields.locked).toBe('0');
    expect(fields).not.toHaveProperty('attempts_left');
  });

  it('lowering lockout.max below the count locks at the next failure', () => {
    const { host } = setup();
    admin(host);
    lockOut(host, 3);
    expect(host.send('SET key=lockout.max value=2')).toEqual(['OK key=lockout.max value=2']);
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=0',
      'EVT lockout retry_after=300',
    ]);
  });

  it('uses lockout.seconds at the next lock and rounds retry_after up', () => {
    const { h, host } = setup();
    admin(host);
    host.send('SET key=lockout.seconds value=10');
    host.send('SET key=lockout.max value=1');
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=0',
      'EVT lockout retry_after=10',
    ]);
    h.advance(9_001);
    expect(host.send('LOGIN user=admin password=wrong')).toEqual([
      'ERR code=423 reason=locked retry_after=1',
    ]);
  });
});

describe('mock terminal: PASSWD', () => {
  it("needs old= when changing one's own password: 400, even before the login check", () => {
    const { host } = setup();
    expect(host.send('PASSWD new=Abcdef99')).toEqual([
      'ERR code=400 reason=syntax key=old msg="PASSWD needs old= to change your own password"',
    ]);
    host.send('LOGIN user=01 password=123456');
    expect(host.send('PASSWD user=01 new=Abcdef99')[0]).toMatch(/^ERR code=400 reason=syntax key=old/);
  });

  it('forbids an operator to name another account (403), admin included', () => {
    const { host } = setup();
    host.send('LOGIN user=01 password=123456');
    expect(host.send('PASSWD user=02 old=123456 new=Abcdef99')).toEqual(['ERR code=403 reason=permission']);
    expect(host.send('PASSWD user=admin old=1234 new=Abcdef99')).toEqual(['ERR code=403 reason=permission']);
  });

  it('D31: a missing old= is 400 before 401 and 403 unless the admin sets another account', () => {
    const { host } = setup();
    expect(host.send('PASSWD user=05 new=Abcdef99')[0]).toMatch(/^ERR code=400 reason=syntax key=old/);
    host.send('LOGIN user=01 password=123456');
    expect(host.send('PASSWD user=02 new=Abcdef99')[0]).toMatch(/^ERR code=400 reason=syntax key=old/);
  });

  it('checks confirm, then unknown user, then policy, then the lock, then old', () => {
    const { h, host } = setup();
    admin(host);
    expect(host.send('PASSWD user=77 new=123 confirm=456')[0]).toMatch(
      /^ERR code=422 reason=invalid-value key=confirm/,
    );
    expect(host.send('PASSWD user=77 new=123')).toEqual(['ERR code=422 reason=unknown-user']);
    expect(host.send('PASSWD user=xyz new=123')).toEqual(['ERR code=422 reason=unknown-user']);
    expect(host.send('PASSWD old=wrong new=123456')[0]).toMatch(
      /^ERR code=422 reason=weak-password msg="new password is a well-known POS default"/,
    );
    // "Same as old" compares with the old= argument, right or wrong: it leaks nothing.
    expect(host.send('PASSWD old=Zq9-Zq9-x new=Zq9-Zq9-x')[0]).toMatch(
      /^ERR code=422 reason=weak-password msg="new password is the same as the old password"/,
    );
    expect(status(host)).toMatchObject({ attempts_left: '5' });
    const other = h.connect();
    for (let i = 0; i < 5; i++) other.send('LOGIN user=admin password=bad');
    host.lines();
    expect(host.send('PASSWD old=wrong new=Good-Pass1')).toEqual([
      'ERR code=423 reason=locked retry_after=300',
    ]);
    expect(host.send('PASSWD user=01 new=Op-Pass-77')).toEqual(['OK']);
    h.advance(300_000);
    // 300 s idle also ended the login.
    expect(host.send(`LOGIN user=admin password=${NEW_ADMIN}`)).toEqual(['OK user=admin must_change=0']);
    expect(host.send('PASSWD old=wrong new=Good-Pass1')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=4',
    ]);
  });

  it('a wrong old reaching lockout.max locks and emits EVT lockout; a right old resets the count', () => {
    const { host } = setup();
    admin(host);
    for (let i = 0; i < 3; i++) host.send(`PASSWD old=nope new=Good-Pass${i}`);
    expect(status(host)).toMatchObject({ attempts_left: '2' });
    expect(host.send(`PASSWD old=${NEW_ADMIN} new=Good-Pass9`)).toEqual(['OK']);
    expect(status(host)).toMatchObject({ attempts_left: '5' });
    for (let i = 0; i < 4; i++) host.send('PASSWD old=nope new=Good-Pass8');
    expect(host.send('PASSWD old=nope new=Good-Pass8')).toEqual([
      'ERR code=401 reason=bad-credentials remaining=0',
      'EVT lockout retry_after=300',
    ]);
  });

  it('a change clears must_change and the account leaves factory_pw', () => {
    const { host } = setup();
    host.send('LOGIN user=admin password=1234');
    expect(status(host)).toMatchObject({ must_change: '1', factory_pw: 'admin,01' });
    expect(host.send('PASSWD old=1234 new=Good-Pass1 confirm=Good-Pass1')).toEqual(['OK']);
    expect(status(host)).toMatchObject({ must_change: '0', factory_pw: '01' });
    expect(host.send('LOGOUT')).toEqual(['OK']);
    expect(host.send('LOGIN user=admin password=1234')[0]).toMatch(/^ERR code=401/);
    expect(host.send('LOGIN user=admin password=Good-Pass1')).toEqual(['OK user=admin must_change=0']);
  });

  it('the admin sets an operator password without old (ignored if given); the operator must change it', () => {
    const { host } = setup();
    admin(host);
    expect(host.send('PASSWD user=01 old=wrong new=Op-Pass-01')).toEqual(['OK']);
    expect(status(host)).toMatchObject({ factory_pw: 'none', attempts_left: '5' });
    expect(host.send('USER-LIST')[0]).toBe(
      'DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1',
    );
    expect(host.send('LOGIN user=01 password=Op-Pass-01')).toEqual(['OK user=01 must_change=1']);
    expect(host.send('PASSWD old=Op-Pass-01 new=Op-Pass-02')).toEqual(['OK']);
    expect(host.send('PASSWD user=01 old=Op-Pass-02 new=Op-Pass-03')).toEqual(['OK']);
    expect(status(host)).toMatchObject({ login: '01', must_change: '0' });
    expect(host.send('USER-LIST')).toEqual(['ERR code=403 reason=permission']);
  });

  it('user=admin is the same as no user for the admin', () => {
    const { host } = setup();
    host.send('LOGIN user=admin password=1234');
    expect(host.send('PASSWD user=admin new=Good-Pass1')[0]).toMatch(/^ERR code=400 reason=syntax key=old/);
    expect(host.send('PASSWD user=admin old=1234 new=Good-Pass1')).toEqual(['OK']);
  });

  it('applies every policy rule', () => {
    const { host } = setup();
    admin(host);
    const weak = (pw: string) => host.send(`PASSWD user=01 new=${pw}`)[0];
    for (const pw of [
      'abc',
      '"x\\x01yzabc"',
      '000000',
      'aaaaaaaa',
      'abcdefg',
      '987654',
      `${'a1'.repeat(17)}`,
    ]) {
      expect(weak(pw), pw).toMatch(/^ERR code=422 reason=weak-password/);
    }
    expect(weak('"with space"')).toBe('OK');
  });
});

describe('mock terminal: sessions', () => {
  it('ends a login after 300 s without a received line', () => {
    const { h, host } = setup();
    admin(host);
    h.advance(299_999);
    expect(host.send('GET key=net.mode')).toEqual(['OK key=net.mode value=eth']);
    h.advance(300_000);
    expect(host.send('GET key=net.mode')).toEqual(['ERR code=401 reason=auth-required']);
    expect(status(host)).toMatchObject({ login: 'none' });
  });

  it('counts any received line as activity, a rejected one too', () => {
    const { h, host } = setup();
    admin(host);
    h.advance(200_000);
    expect(host.send('NONSENSE')[0]).toMatch(/^ERR code=404/);
    h.advance(200_000);
    expect(host.write('\x01\r\n')[0]).toMatch(/^ERR code=400/);
    h.advance(200_000);
    expect(host.send('GET key=net.mode')).toEqual(['OK key=net.mode value=eth']);
  });

  it('does not count empty and blank lines as activity (docs/protocol.md §12)', () => {
    const { h, host } = setup();
    admin(host);
    h.advance(200_000);
    expect(host.write('\r\n   \r\n\r')).toEqual([]);
    h.advance(100_000);
    expect(host.send('GET key=net.mode')).toEqual(['ERR code=401 reason=auth-required']);
  });

  it('keeps logins per connection and ends them on disconnect', () => {
    const { h, host } = setup();
    admin(host);
    const other = h.connect();
    expect(status(other)).toMatchObject({ login: 'none' });
    host.close();
    expect(h.terminal.connectionCount).toBe(1);
  });

  it('ends the logins of a deleted operator', () => {
    const { h, host } = setup();
    admin(host);
    const operator = h.connect();
    operator.send('LOGIN user=01 password=123456');
    expect(host.send('USER-DEL id=01')).toEqual(['OK']);
    expect(status(operator)).toMatchObject({ login: 'none', factory_pw: 'none' });
  });
});
