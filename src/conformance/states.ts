/**
 * Bringing the terminal to the state a check starts from: RESET to factory state (§15 RESET),
 * then the steps of docs/protocol.md §22 "Starting states".
 *
 * RESET needs the admin logged in with its password changed (§12: 428 until then), so a reset
 * logs in with the password STATUS `factory_pw` says is current, replaces a factory one, and
 * resets. The lockout rules hold here as everywhere in posbridge (§13, §18): a password is tried
 * once, and the first reset of a run, which uses the password a person gave, never spends the
 * terminal's last attempt on it.
 */
import { PosbridgeError } from '../host/errors.js';
import type { Secret } from '../host/secret.js';
import type { StartState } from './check.js';
import type { Ctx } from './context.js';
import { CannotContinue, CheckFailure } from './failure.js';
import { showBytes } from './lines.js';
import {
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_PASSWORD,
  SUITE_ADMIN_PASSWORD,
  SUITE_MERCHANT,
  SUITE_OPERATOR_PASSWORD,
  SUITE_TERMINAL,
} from './spec.js';

/** The longest lock a reset waits out between checks (the suite's own locks are a few seconds). */
const MAX_LOCK_WAIT_S = 60;

export interface FirstReset {
  /** The admin password of a terminal that no longer holds the factory one; asked only then. */
  adminPassword(): Promise<Secret | undefined>;
}

/**
 * RESET to factory state; ends with nobody logged in. `first` is the run's first reset, on a
 * terminal in a state the suite did not make: its errors are PosbridgeErrors for the person
 * (locked, lockout risk, wrong or missing password); later ones are CannotContinue.
 */
export async function resetToFactory(t: Ctx, first?: FirstReset): Promise<void> {
  await leniently(t, () => resetSteps(t, first));
}

async function resetSteps(t: Ctx, first?: FirstReset): Promise<void> {
  const fail = (
    code: 'LOCKED' | 'LOCKOUT_RISK' | 'BAD_CREDENTIALS' | 'USAGE',
    message: string,
    hint: string,
  ) => (first ? new PosbridgeError(code, message, { hint }) : new CannotContinue(message));
  let status = await statusWhenUp(t);
  if (status.tamper === '1' && first)
    throw new PosbridgeError('TAMPERED', `the terminal ${t.sn} reports tamper=1`, {
      hint: 'A tampered terminal gets no credential (docs/protocol.md §15 STATUS); quarantine it and test another one.',
    });
  if (status.login === 'admin' && status.must_change === '0') return reset(t);
  // §18, D41: a login the suite did not make is ended before the suite's LOGIN.
  if (status.login !== 'none') {
    await t.ok('LOGOUT');
    status = await t.status();
  }
  const factory = (status.factory_pw ?? '').split(',').includes('admin');
  let password: string;
  if (factory) password = FACTORY_ADMIN_PASSWORD;
  else if (first) {
    const given = await first.adminPassword();
    if (!given)
      throw fail(
        'USAGE',
        `the terminal ${t.sn} no longer has its factory admin password, and no admin password was given`,
        "Give it with --admin-password-stdin, --admin-password-file FILE or POSBRIDGE_ADMIN_PASSWORD (a run cut short leaves the suite's password: see docs/conformance.md).",
      );
    password = given.reveal();
  } else password = t.adminPassword;

  if (status.locked === '1' && first)
    throw fail(
      'LOCKED',
      `the terminal ${t.sn} is locked after failed logins`,
      'Wait for the lock to end (posbridge info shows it), then run again.',
    );
  for (let waited = 0; status.locked === '1'; waited++) {
    const wait = await lockWait(t, password);
    if (wait > MAX_LOCK_WAIT_S || waited > 2)
      throw new CannotContinue(`the terminal is locked after failed logins (${wait} s left)`);
    await t.sleep(wait * 1000 + 200);
    status = await t.status();
  }
  // Never the last attempt on a password not known to be right (posbridge's rule, §13).
  if (first && !factory && status.attempts_left !== undefined && Number(status.attempts_left) <= 1)
    throw fail(
      'LOCKOUT_RISK',
      `the terminal ${t.sn} has ${status.attempts_left} login attempt left; posbridge does not spend it on a password it cannot know is right`,
      'Unlock it with the right password by hand (posbridge console), then run again.',
    );
  const login = await t.request('LOGIN', [
    ['user', 'admin'],
    ['password', password],
  ]);
  if (login.final.kind !== 'ok') {
    const code = login.final.fields.code;
    throw fail(
      code === '423' ? 'LOCKED' : 'BAD_CREDENTIALS',
      `the terminal ${t.sn} refused the admin login: ${showBytes(login.final.raw.text)}`,
      code === '401'
        ? "The admin password given is not the terminal's; it was not tried again. Check it, then run again."
        : 'Run again once the terminal accepts a login.',
    );
  }
  t.adminPassword = password;
  if (login.final.fields.must_change === '1') {
    await t.ok('PASSWD', [
      ['old', password],
      ['new', SUITE_ADMIN_PASSWORD],
    ]);
    t.adminPassword = SUITE_ADMIN_PASSWORD;
  }
  await reset(t);
}

async function reset(t: Ctx): Promise<void> {
  await t.ok('RESET', [['confirm', t.sn]]);
  t.adminPassword = FACTORY_ADMIN_PASSWORD;
  // The EVT state that follows belongs to the reset, not to the next check.
  const after = await t.status();
  t.takeEvents();
  if (after.state !== 'factory')
    throw new CannotContinue(
      `after RESET, STATUS says state=${after.state}: the terminal did not return to factory state`,
    );
  // A login RESET should have ended (reset.logins-ended reports it): ended here, so checks start clean.
  if (after.login !== 'none') await t.ok('LOGOUT');
}

/** The seconds left of a lock, from a LOGIN that gets 423 (which neither counts nor extends it, §13). */
async function lockWait(t: Ctx, password: string): Promise<number> {
  const x = await t.request('LOGIN', [
    ['user', 'admin'],
    ['password', password],
  ]);
  const seconds = Number(x.final.fields.retry_after);
  if (x.final.fields.code !== '423' || !Number.isInteger(seconds))
    throw new CannotContinue(`STATUS says locked=1, but LOGIN answered ${showBytes(x.final.raw.text)}`);
  return Math.max(seconds, 1);
}

/** STATUS, waiting out a reboot (503 not-ready) within the reboot timeout. */
async function statusWhenUp(t: Ctx): Promise<Record<string, string>> {
  const deadline = t.config.now() + t.config.rebootTimeoutMs;
  for (;;) {
    const x = await t.request('STATUS');
    if (x.final.kind === 'ok') return x.final.fields;
    if (x.final.fields.code !== '503' || t.config.now() > deadline)
      throw new CannotContinue(`STATUS answered ${showBytes(x.final.raw.text)}`);
    await t.sleep(200);
  }
}

/** From factory state (nobody logged in) to `state`. */
export async function enterState(t: Ctx, state: StartState): Promise<void> {
  try {
    await leniently(t, () => steps(t, state));
  } catch (error) {
    if (error instanceof CheckFailure)
      throw new CheckFailure(`could not reach the starting state ${state}: ${error.message}`, error.detail);
    throw error;
  }
}

async function steps(t: Ctx, state: StartState): Promise<void> {
  switch (state) {
    case 'factory':
      return;
    case 'operator-01':
      await t.ok('LOGIN', [
        ['user', '01'],
        ['password', FACTORY_OPERATOR_PASSWORD],
      ]);
      return;
    case 'admin-must-change':
      await t.ok('LOGIN', [
        ['user', 'admin'],
        ['password', FACTORY_ADMIN_PASSWORD],
      ]);
      return;
    case 'admin-ready':
      await steps(t, 'admin-must-change');
      await t.ok('PASSWD', [
        ['old', FACTORY_ADMIN_PASSWORD],
        ['new', SUITE_ADMIN_PASSWORD],
        ['confirm', SUITE_ADMIN_PASSWORD],
      ]);
      t.adminPassword = SUITE_ADMIN_PASSWORD;
      return;
    case 'admin-ready-operator-02':
      await steps(t, 'admin-ready');
      await t.ok('USER-ADD', [
        ['id', '02'],
        ['name', 'Night shift'],
        ['perms', 'sale,query'],
        ['password', SUITE_OPERATOR_PASSWORD],
      ]);
      return;
    case 'provisioned':
      await steps(t, 'admin-ready');
      await t.ok('INIT', [
        ['merchant', SUITE_MERCHANT],
        ['terminal', SUITE_TERMINAL],
        ['name', 'Conformance bench'],
      ]);
      await t.ok('TIME', [['utc', t.utcNow()]]);
      await t.set('host.addr', 'acq.example.net');
      await t.set('host.port', '8583');
      t.takeEvents();
      return;
  }
}

/** Runs `body` with replies not held to the line rules (Probe.lax): the checks report those. */
async function leniently(t: Ctx, body: () => Promise<void>): Promise<void> {
  const was = t.lax;
  t.lax = true;
  try {
    await body();
  } finally {
    t.lax = was;
  }
}
