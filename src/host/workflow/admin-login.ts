/**
 * Logging in as the admin without ever risking the terminal: the password STATUS says is current
 * is chosen, the attempt count is read right before the attempt, a rejected password is reported
 * and never sent again, and the last attempt is only spent on a password known to be right. A
 * LOGIN whose answer a restart took is judged from the attempt count afterwards before its
 * password goes out again. A login the terminal still holds from an earlier host is ended first
 * (LOGOUT).
 */
import { FACTORY_ADMIN_PASSWORD } from '../../protocol/index.js';
import { isPosbridgeError, isTerminalError, PosbridgeError } from '../errors.js';
import { lockedHint, lockoutRiskHint } from '../lockout-hints.js';
import { Secret } from '../secret.js';
import type { StatusInfo, TerminalOps } from './terminal-ops.js';

export interface AdminCredential {
  password: Secret;
  /** Evidence says the terminal holds it (STATUS factory_pw, or this tool set it). */
  known: boolean;
  /** How to name it in messages, e.g. "the factory admin password". */
  label: string;
}

/** Which password to try: the factory one while STATUS lists it, else the one given. */
export function chooseAdminCredential(
  status: StatusInfo,
  given: Secret | undefined,
  givenKnown = false,
): AdminCredential {
  if (status.factoryPw.includes('admin')) {
    return { password: new Secret(FACTORY_ADMIN_PASSWORD), known: true, label: 'the factory admin password' };
  }
  if (!given) {
    throw new PosbridgeError(
      'USAGE',
      'the admin password is needed (the terminal no longer has its factory password)',
      {
        hint: 'give it with --admin-password-stdin, --admin-password-file or POSBRIDGE_ADMIN_PASSWORD',
      },
    );
  }
  return { password: given, known: givenKnown, label: 'the admin password given' };
}

/** A LOGIN the terminal restarted in the middle of (EVT boot, no answer): its outcome is unknown. */
export interface InterruptedLogin {
  password: Secret;
  known: boolean;
  label: string;
  /** STATUS attempts_left read right before it went out; absent with lockout disabled. */
  attemptsLeft: number | undefined;
}

/** REBOOTED, from a LOGIN: carries what the next try needs to judge it (loginAdmin `after`). */
export class LoginInterrupted extends PosbridgeError {
  constructor(
    cause: PosbridgeError,
    readonly attempt: InterruptedLogin,
  ) {
    super('REBOOTED', cause.message, { hint: cause.hint, details: cause.details, cause });
  }
}

export interface LoginAdminOptions {
  /** A LOGIN of this run that a restart interrupted: its password is resent only if it was not rejected. */
  after?: InterruptedLogin | undefined;
}

export async function loginAdmin(
  ops: TerminalOps,
  credential: AdminCredential,
  options: LoginAdminOptions = {},
): Promise<{ mustChange: boolean }> {
  const status = await ops.status(); // attempts_left right before the attempt
  if (status.locked) {
    throw new PosbridgeError(
      'LOCKED',
      'the terminal is locked after failed login attempts; posbridge sent no password',
      { hint: lockedHint() },
    );
  }
  if (!credential.known && status.attemptsLeft !== undefined && status.attemptsLeft <= 1) {
    throw new PosbridgeError(
      'LOCKOUT_RISK',
      `only ${attemptsText(status.attemptsLeft)} left and ${credential.label} is not known to be right: posbridge will not spend it`,
      { hint: lockoutRiskHint(status.attemptsLeft) },
    );
  }
  if (options.after) checkInterrupted(options.after, credential, status);
  // docs/protocol.md D41: on a serial line the terminal cannot see a host close the port, so it
  // may still hold the login of an earlier host; end it first, so a refused LOGIN cannot leave it
  // in place. Where the terminal sees connections end (TCP, the mock), a new one shows none.
  if (status.login !== 'none') await ops.logout();
  try {
    const result = await ops.login('admin', credential.password);
    return { mustChange: result.mustChange };
  } catch (error) {
    if (isPosbridgeError(error, 'REBOOTED')) {
      const { password, known, label } = credential;
      throw new LoginInterrupted(error, { password, known, label, attemptsLeft: status.attemptsLeft });
    }
    if (isTerminalError(error, 401) && error.remaining === 0) {
      // The failure that reached lockout.max: the terminal is locked now (exit 4, not 1).
      throw new PosbridgeError('LOCKED', `the terminal rejected ${credential.label} and locked itself`, {
        hint: lockedHint(),
        cause: error,
      });
    }
    if (isTerminalError(error, 401)) {
      const remaining = error.remaining === undefined ? '' : ` (${attemptsText(error.remaining)} left)`;
      throw new PosbridgeError(
        'BAD_CREDENTIALS',
        `the terminal rejected ${credential.label}${remaining}; posbridge never resends a rejected password`,
        {
          hint: 'find the right admin password before running again',
          cause: error,
        },
      );
    }
    if (isTerminalError(error, 423)) {
      const left = error.retryAfter === undefined ? '' : ` for ${error.retryAfter} more s`;
      throw new PosbridgeError('LOCKED', `the terminal is locked${left} (423: the LOGIN was not counted)`, {
        hint: lockedHint(error.retryAfter),
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Whether the password of a LOGIN that a restart interrupted may go out again. A password known
 * to be right (STATUS factory_pw, or set by this run) may. Otherwise the attempt count says what
 * the terminal did: lower than before the LOGIN, it counted a failure (the password was rejected:
 * never resend it); the same or higher, it did not (not run, or a success that reset the count).
 * With lockout disabled there is no count to tell: stop, as a run did before it resumed.
 */
function checkInterrupted(previous: InterruptedLogin, credential: AdminCredential, status: StatusInfo): void {
  if (credential.known || !previous.password.equals(credential.password)) return;
  const before = previous.attemptsLeft;
  const now = status.attemptsLeft;
  if (before === undefined || now === undefined) {
    throw new PosbridgeError(
      'REBOOTED',
      `the terminal restarted before answering the LOGIN with ${previous.label}, and with lockout disabled STATUS counts no failed attempt: posbridge cannot tell whether it was rejected, and never resends a password that may have been`,
      {
        hint: 'make sure of the admin password, then run the command again: it reads the terminal state first',
      },
    );
  }
  if (now < before) {
    throw new PosbridgeError(
      'BAD_CREDENTIALS',
      `the terminal counted a failed attempt for the LOGIN a restart interrupted (${attemptsText(before)} left before it, ${now} now): ${previous.label} was most likely rejected; posbridge never resends a rejected password`,
      { hint: 'find the right admin password before running again' },
    );
  }
}

/** Log in for an admin command (diag, operator, ...): a factory terminal must be provisioned first. */
export async function loginForAdminCommand(ops: TerminalOps, given: Secret | undefined): Promise<void> {
  const status = await ops.status();
  if (status.tamper) {
    throw new PosbridgeError('TAMPERED', 'the terminal reports tamper=1: posbridge sends it no credential', {
      hint: 'do not use it; return it to the vendor',
    });
  }
  const credential = chooseAdminCredential(status, given);
  const { mustChange } = await loginAdmin(ops, credential);
  if (mustChange) {
    await ops.logout();
    throw new PosbridgeError(
      'NOT_PROVISIONED',
      'the admin must change the factory password before anything else',
      {
        hint: 'run posbridge provision first',
      },
    );
  }
}

function attemptsText(count: number): string {
  return count === 1 ? '1 attempt' : `${count} attempts`;
}
