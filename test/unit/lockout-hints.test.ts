/**
 * The exit-4 hints say what a wait can do and what it cannot (issue 9, item 8): the end of a lock
 * gives the attempts back but never the password; a wait does nothing for the last attempt.
 * Checked where the errors are made: the lockout-safe login (admin-login.ts) and the terminal's
 * own ERR replies (errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { isPosbridgeError, type PosbridgeError, TerminalError } from '../../src/host/errors.js';
import { Secret } from '../../src/host/secret.js';
import { type AdminCredential, loginAdmin } from '../../src/host/workflow/admin-login.js';
import type { StatusInfo, TerminalOps } from '../../src/host/workflow/terminal-ops.js';

const WAIT_ENDS_THE_LOCK = /Waiting ends the lock but does not recover the password/;

function status(over: Partial<StatusInfo> = {}): StatusInfo {
  return {
    state: 'initialized',
    login: 'none',
    mustChange: false,
    locked: false,
    attemptsLeft: 5,
    tamper: false,
    factoryPw: [],
    ...over,
  };
}

/** TerminalOps whose STATUS and LOGIN answer as told; counts the LOGINs sent. */
function ops(current: StatusInfo, login?: () => never): TerminalOps & { logins: number } {
  const fake = {
    logins: 0,
    status: async () => current,
    login: async () => {
      fake.logins++;
      if (login) login();
      return { user: 'admin', mustChange: false };
    },
  };
  return fake as unknown as TerminalOps & { logins: number };
}

const given: AdminCredential = {
  password: new Secret('Given-Pw-77'),
  known: false,
  label: 'the admin password given',
};

async function failure(promise: Promise<unknown>): Promise<PosbridgeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPosbridgeError(error)) throw new Error(`expected a PosbridgeError, got ${String(error)}`);
  return error;
}

describe('exit-4 hints: what a wait can and cannot do', () => {
  it('STATUS says locked: the lock ends by itself (how long is not known), the password does not come back', async () => {
    const terminal = ops(status({ locked: true, attemptsLeft: 0 }));
    const error = await failure(loginAdmin(terminal, given));
    expect(error.code).toBe('LOCKED');
    expect(exitCodeFor(error)).toBe(4);
    expect(error.hint).toMatch(
      /^The terminal stays locked until its lockout time runs out \(lockout\.seconds, 300 s unless changed; STATUS does not say how much is left\)\. /,
    );
    expect(error.hint).toMatch(WAIT_ENDS_THE_LOCK);
    expect(error.hint).toMatch(/after the lock the terminal counts lockout\.max attempts again/);
    expect(terminal.logins).toBe(0);
  });

  it('one attempt left: waiting gives nothing back; only a login by hand (or a lock or RESET ending) does', async () => {
    const terminal = ops(status({ attemptsLeft: 1 }));
    const error = await failure(loginAdmin(terminal, given));
    expect(error.code).toBe('LOCKOUT_RISK');
    expect(exitCodeFor(error)).toBe(4);
    expect(error.hint).toMatch(
      /^One attempt left; posbridge will not spend it on a password it does not know is right\. Waiting does not give attempts back \(only a successful login, the end of a lock or a factory RESET does\)/,
    );
    expect(error.hint).toMatch(/log in by hand once \(posbridge console\)/);
    expect(error.hint).not.toMatch(/wait for/i);
    expect(terminal.logins).toBe(0);
  });

  it('no attempt left yet not locked (lockout.max lowered): the same, with the count', async () => {
    const error = await failure(loginAdmin(ops(status({ attemptsLeft: 0 })), given));
    expect(error.code).toBe('LOCKOUT_RISK');
    expect(error.hint).toMatch(/^0 attempts left; posbridge will not spend it/);
  });

  it('a LOGIN answered 423 retry_after=42: locked for 42 more seconds, and what waiting does', async () => {
    const terminal = ops(status(), () => {
      throw new TerminalError({
        verb: 'LOGIN',
        fields: { code: '423', reason: 'locked', retry_after: '42' },
      });
    });
    const error = await failure(loginAdmin(terminal, given));
    expect(error.code).toBe('LOCKED');
    expect(error.message).toBe('the terminal is locked for 42 more s (423: the LOGIN was not counted)');
    expect(error.hint).toMatch(/^The terminal is locked for 42 more seconds\. /);
    expect(error.hint).toMatch(WAIT_ENDS_THE_LOCK);
    expect(exitCodeFor(error)).toBe(4);
  });

  it('the LOGIN that used the last attempt (401 remaining=0): locked now, waiting will not find the password', async () => {
    const terminal = ops(status({ attemptsLeft: 2 }), () => {
      throw new TerminalError({
        verb: 'LOGIN',
        fields: { code: '401', reason: 'bad-credentials', remaining: '0' },
      });
    });
    const error = await failure(loginAdmin(terminal, { ...given, known: true }));
    expect(error.code).toBe('LOCKED');
    expect(error.hint).toMatch(WAIT_ENDS_THE_LOCK);
    expect(terminal.logins).toBe(1);
  });

  it("the terminal's own ERR replies carry the same words (any command, any workflow)", () => {
    const locked = new TerminalError({
      verb: 'PASSWD',
      fields: { code: '423', reason: 'locked', retry_after: '1' },
    });
    expect(locked.hint).toMatch(/^The terminal is locked for 1 more second\. /);
    expect(locked.hint).toMatch(WAIT_ENDS_THE_LOCK);
    const last = new TerminalError({
      verb: 'LOGIN',
      fields: { code: '401', reason: 'bad-credentials', remaining: '0' },
    });
    expect(last.hint).toMatch(
      /^The password was wrong and the terminal is now locked\. The terminal stays locked/,
    );
    expect(last.hint).toMatch(WAIT_ENDS_THE_LOCK);
    expect(exitCodeFor(locked)).toBe(4);
    expect(exitCodeFor(last)).toBe(4);
  });
});
