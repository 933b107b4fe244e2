/**
 * Exit codes (docs/cli.md, "Exit codes"): 0 success, 1 the terminal said no or a check failed, 2 usage error,
 * 3 the terminal cannot be reached or stopped answering, 4 stopped to avoid a lockout or locked.
 *
 * The one table from error codes to exit codes: every code of every posbridge error (host, audit
 * trail, mock terminal) is here, and nothing else in posbridge maps codes to exit codes. A thrown
 * error and a report that stopped early (its `error`, the same code as data) go through it alike.
 */
import type { AuditErrorCode } from '../audit/index.js';
import type { PosbridgeErrorCode } from '../host/errors.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import type { MockConfigErrorCode } from '../mock-device/index.js';
import type { TransportErrorCode } from '../mock-device/transports/index.js';
import { CodedError } from '../protocol/index.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, lockout: 4 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every error code posbridge raises. */
export type ErrorCode =
  | PosbridgeErrorCode
  | AuditErrorCode
  | MockConfigErrorCode
  | TransportErrorCode
  | 'TRACE_FORMAT'
  | 'TRANSCRIPT_INVALID';

const EXIT_BY_CODE: Record<ErrorCode, ExitCode> = {
  // The host (src/host/errors.ts).
  PORT_NOT_FOUND: EXIT.unreachable,
  PORT_BUSY: EXIT.unreachable,
  PORT_OPEN_FAILED: EXIT.unreachable,
  PORT_LIST_FAILED: EXIT.unreachable,
  DISCONNECTED: EXIT.unreachable,
  CLOSED: EXIT.unreachable,
  TIMEOUT: EXIT.unreachable,
  REBOOTED: EXIT.unreachable,
  BAD_REPLY: EXIT.unreachable,
  // By its status: see exitCodeFor.
  TERMINAL_ERROR: EXIT.refused,
  USAGE: EXIT.usage,
  INVALID_VALUE: EXIT.usage,
  WEAK_PASSWORD: EXIT.usage,
  LOCKOUT_RISK: EXIT.lockout,
  LOCKED: EXIT.lockout,
  TAMPERED: EXIT.refused,
  CHECK_FAILED: EXIT.refused,
  UNSUPPORTED: EXIT.refused,
  BAD_CREDENTIALS: EXIT.refused,
  NOT_PROVISIONED: EXIT.refused,
  WRONG_TERMINAL: EXIT.refused,
  VERIFY_FAILED: EXIT.refused,
  BROKER_UNREACHABLE: EXIT.unreachable,
  BROKER_REFUSED: EXIT.refused,
  INTERNAL: EXIT.refused,
  // The audit trail (src/audit/errors.ts): the record could not be kept or read.
  AUDIT_UNAVAILABLE: EXIT.refused,
  AUDIT_OPEN_FAILED: EXIT.refused,
  AUDIT_SCHEMA_UNSUPPORTED: EXIT.refused,
  AUDIT_CORRUPT: EXIT.refused,
  AUDIT_BUSY: EXIT.refused,
  AUDIT_WRITE_FAILED: EXIT.refused,
  AUDIT_READ_FAILED: EXIT.refused,
  AUDIT_SECRET_REFUSED: EXIT.refused,
  AUDIT_INVALID: EXIT.refused,
  AUDIT_UNKNOWN_RUN: EXIT.refused,
  AUDIT_RUN_FINISHED: EXIT.refused,
  AUDIT_CLOSED: EXIT.refused,
  AUDIT_WITNESS_FAILED: EXIT.refused,
  // The mock terminal (`posbridge mock`): a bad option, file or path is the caller's to fix.
  INVALID_OPTION: EXIT.usage,
  STATE_FILE: EXIT.usage,
  INVALID_ARGUMENT: EXIT.usage,
  PATH_EXISTS: EXIT.usage,
  DEVICE_NOT_FOUND: EXIT.usage,
  LINK_IN_USE: EXIT.usage,
  LISTEN_FAILED: EXIT.refused,
  LINK_FAILED: EXIT.refused,
  PTY_UNAVAILABLE: EXIT.refused,
  PTY_FAILED: EXIT.refused,
  DEVICE_FAILED: EXIT.refused,
  // The in-process binding's own (the host turns them into PORT_NOT_FOUND, PORT_BUSY, ...).
  UNKNOWN_PORT: EXIT.refused,
  PORT_NOT_OPEN: EXIT.refused,
  CANCELED: EXIT.refused,
  // A trace or transcript file that does not read (the mock's --replay reports it as INVALID_OPTION).
  TRACE_FORMAT: EXIT.usage,
  TRANSCRIPT_INVALID: EXIT.usage,
};

/**
 * The exit code of a coded error, or of one carried as data (`{ code, status, remaining }`, a
 * report's `error`). A terminal's ERR is judged by its status: a 423, and a 401 that used the last
 * attempt, are lockouts (4); a 503 the session gave up retrying is "stopped answering" (3); any
 * other is 1. Anything that is not a posbridge error is a failure (1).
 */
export function exitCodeFor(error: unknown): ExitCode {
  const coded = codedFields(error);
  if (coded === undefined) return EXIT.refused;
  if (coded.code === 'TERMINAL_ERROR') {
    if (coded.status === 423) return EXIT.lockout;
    if (coded.status === 401 && coded.remaining === 0) return EXIT.lockout;
    if (coded.status === 503) return EXIT.unreachable;
    return EXIT.refused;
  }
  return Object.hasOwn(EXIT_BY_CODE, coded.code) ? EXIT_BY_CODE[coded.code as ErrorCode] : EXIT.refused;
}

/**
 * A provisioning's exit code, from its report alone: how it stopped (its `error`, through the
 * table), else 1 when a diagnostic check failed, else 0.
 */
export function exitCodeForReport(report: Pick<ProvisionReport, 'error' | 'diagnostics'>): ExitCode {
  if (report.error) return exitCodeFor(report.error);
  return (report.diagnostics?.fail ?? 0) > 0 ? EXIT.refused : EXIT.ok;
}

function codedFields(error: unknown): { code: string; status?: unknown; remaining?: unknown } | undefined {
  if (error instanceof CodedError) return { ...error.details, code: error.code };
  if (error instanceof Error || typeof error !== 'object' || error === null) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? (error as { code: string }) : undefined;
}
