/**
 * The host's errors: stable codes and a hint for the person in front of the terminal, on the
 * coded-error base every posbridge error shares (src/protocol/coded-error.ts); the CLI maps each
 * code to its exit code (src/cli/exit-codes.ts; docs/cli.md, "Exit codes"). An ERR reply from the
 * terminal is a TerminalError that keeps every field of the reply. Messages never hold a secret:
 * requests are described by their verb, never by their line.
 */
import { CodedError, type CodedErrorOptions, ERR_REPLY, type ErrorSlug } from '../protocol/index.js';
import { lockedHint } from './lockout-hints.js';

export type PosbridgeErrorCode =
  /** The port name points at nothing (no such device path, unknown host). */
  | 'PORT_NOT_FOUND'
  /** Another process (or another open in this one) holds the port. */
  | 'PORT_BUSY'
  /** The port exists but could not be opened (permissions, refused connection, bad baud rate). */
  | 'PORT_OPEN_FAILED'
  /** Serial ports could not be listed (udevadm missing, ...). */
  | 'PORT_LIST_FAILED'
  /** The link went away (cable pulled, TCP peer gone) while it was in use. */
  | 'DISCONNECTED'
  /** The session was closed by its owner while the request was pending. */
  | 'CLOSED'
  /** The terminal stopped answering (after the bounded retransmissions). */
  | 'TIMEOUT'
  /**
   * The terminal restarted (EVT boot) while a request was in flight and its reply never came;
   * the request was not resent (its replay cache is gone), so its outcome is unknown.
   */
  | 'REBOOTED'
  /** The terminal answered something that cannot be read or does not fit the protocol. */
  | 'BAD_REPLY'
  /** The terminal answered ERR (see TerminalError). */
  | 'TERMINAL_ERROR'
  /** The command line or the call was wrong. */
  | 'USAGE'
  /** A value given by the user breaks a TSP/1 rule; nothing was sent. */
  | 'INVALID_VALUE'
  /** A new password breaks the password policy; nothing was sent. */
  | 'WEAK_PASSWORD'
  /** Going on could lock the terminal; stopped before spending a login attempt. */
  | 'LOCKOUT_RISK'
  /** The terminal is locked after failed logins. */
  | 'LOCKED'
  /** The terminal reports tamper: quarantined, no credential was set. */
  | 'TAMPERED'
  /** A check (diagnostics, read-back) failed. */
  | 'CHECK_FAILED'
  /** The terminal speaks another protocol version, or lacks a capability we need. */
  | 'UNSUPPORTED'
  /** The terminal refused the credentials (the workflow's reading of a 401). */
  | 'BAD_CREDENTIALS'
  /** The operation needs a provisioned terminal (e.g. the admin password is still the factory one). */
  | 'NOT_PROVISIONED'
  /** The terminal is not the one expected (bound to other merchant/terminal numbers, other sn). */
  | 'WRONG_TERMINAL'
  /** Reading back what was set did not match. */
  | 'VERIFY_FAILED'
  /** The MQTT broker cannot be reached (down, wrong address, TLS failed): `posbridge fleet`. */
  | 'BROKER_UNREACHABLE'
  /** The MQTT broker refused us (credentials, access rules): `posbridge fleet`. */
  | 'BROKER_REFUSED'
  /** A bug in posbridge. */
  | 'INTERNAL';

export type PosbridgeErrorOptions = CodedErrorOptions;

export class PosbridgeError extends CodedError<PosbridgeErrorCode> {
  override name = 'PosbridgeError';
}

export interface TerminalErrorInit {
  /** The verb of the request the terminal refused. */
  verb: string;
  /** The request ID the reply echoed, if any. */
  id?: string | undefined;
  /** Every field of the ERR line (code and reason included), as text. */
  fields: Record<string, string>;
}

/** `ERR code=NNN reason=slug [key=value...]`: the terminal said no. */
export class TerminalError extends PosbridgeError {
  override name = 'TerminalError';
  /** The numeric code (401, 423, ...); 0 if the reply had none that could be read. */
  readonly status: number;
  /** The slug (`bad-credentials`, `locked`, ...). */
  readonly reason: string;
  /** Every field of the reply, as text. */
  readonly fields: Record<string, string>;
  readonly verb: string;
  /** 401: login attempts left before the terminal locks (absent when lockout is disabled). */
  readonly remaining?: number;
  /** 423: seconds until the lock ends. */
  readonly retryAfter?: number;
  /** 400/422: the argument or setting the terminal objects to. */
  readonly key?: string;
  /** The terminal's words for people, if it gave any. */
  readonly msg?: string;

  constructor(init: TerminalErrorInit) {
    const { verb, fields } = init;
    // Read by the ERR codec; the session only builds this from an ERR that reads (else BAD_REPLY).
    const read = ERR_REPLY.decode(fields);
    const err = read.ok ? read.value : { code: 0, reason: 'unknown' };
    const { code: status, reason, remaining, retryAfter, key, msg } = err;
    const parts = [`${verb} refused by the terminal: ${status} ${reason}`];
    if (key !== undefined) parts.push(`key=${key}`);
    if (remaining !== undefined) parts.push(`remaining=${remaining}`);
    if (retryAfter !== undefined) parts.push(`retry_after=${retryAfter}s`);
    if (msg !== undefined) parts.push(`(${msg})`);
    super('TERMINAL_ERROR', parts.join(' '), {
      hint: hintFor(status, reason, { remaining, retryAfter, key }),
      details: {
        status,
        reason,
        verb,
        ...(init.id !== undefined && { id: init.id }),
        fields,
        // As numbers too, so the error read back from JSON (a report, the API) keeps its exit code.
        ...(remaining !== undefined && { remaining }),
        ...(retryAfter !== undefined && { retryAfter }),
      },
    });
    this.status = status;
    this.reason = reason;
    this.fields = fields;
    this.verb = verb;
    if (remaining !== undefined) this.remaining = remaining;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
    if (key !== undefined) this.key = key;
    if (msg !== undefined) this.msg = msg;
  }
}

function hintFor(
  status: number,
  reason: string,
  extra: { remaining: number | undefined; retryAfter: number | undefined; key: string | undefined },
): string {
  switch (reason as ErrorSlug) {
    case 'auth-required':
      return 'Log in first; a login ends at LOGOUT, reboot, disconnect or after 300 s idle.';
    case 'bad-credentials':
      return extra.remaining === undefined
        ? 'The password was wrong. Check which password is current (posbridge info shows factory passwords) before trying again.'
        : extra.remaining === 0
          ? `The password was wrong and the terminal is now locked. ${lockedHint()}`
          : `The password was wrong; ${extra.remaining} attempt(s) left before the terminal locks. Do not retry blindly.`;
    case 'permission':
      return 'Only the admin may do this: log in as admin.';
    case 'unknown-command':
      return 'The terminal does not know this command: check its firmware (posbridge info).';
    case 'wrong-state':
      return 'The terminal is not in a state that allows this (e.g. bound to other merchant/terminal numbers: RESET it first).';
    case 'exists':
      return 'It already exists: use the command that changes it instead.';
    case 'line-too-long':
      return 'A value is too long for one TSP/1 line (512 bytes): shorten it.';
    case 'invalid-value':
      return extra.key === undefined
        ? 'A value was refused: check it.'
        : `The value of ${extra.key} was refused: check it.`;
    case 'weak-password':
      return 'Choose a stronger password: 6-32 printable characters, not a default, not a run or one repeated character.';
    case 'unknown-key':
      return 'The terminal has no such setting: check the key (net.mode, host.addr, ...).';
    case 'unknown-user':
      return 'No such operator: list them with posbridge operator list.';
    case 'unknown-check':
      return 'The terminal has no such diagnostic check: run posbridge diag without --checks to see them.';
    case 'locked':
      return lockedHint(extra.retryAfter);
    case 'password-change-required':
      return 'The password must be changed first (posbridge passwd).';
    case 'bad-crc':
    case 'syntax':
      return 'The terminal received our line damaged: another program may be writing to the port, or the cable or --baud is wrong.';
    case 'internal':
      return 'The terminal failed internally: try once more, then return it for service.';
    case 'not-ready':
    case 'busy':
      return 'The terminal is busy or restarting: wait a moment and run the command again.';
    default:
      return status >= 500 ? 'The terminal failed: try again later.' : 'The terminal refused the request.';
  }
}

export function isPosbridgeError(error: unknown, code?: PosbridgeErrorCode): error is PosbridgeError {
  return error instanceof PosbridgeError && (code === undefined || error.code === code);
}

/** An ERR reply, optionally with the given status (`isTerminalError(e, 401)`) and reason. */
export function isTerminalError(error: unknown, status?: number, reason?: string): error is TerminalError {
  return (
    error instanceof TerminalError &&
    (status === undefined || error.status === status) &&
    (reason === undefined || error.reason === reason)
  );
}
