/**
 * The base of every error posbridge raises to a person or a program: a stable code a caller can
 * act on, a hint for whoever has to act, machine-readable details, and one JSON shape for `--json`
 * output, the local API and the reports. The host's PosbridgeError, the audit trail's AuditError
 * and the mock terminal's errors all extend it, so the command line catches one class and maps
 * every code through one exit-code table (src/cli/exit-codes.ts).
 *
 * It lives here, with no I/O, because it is the one thing every folder shares: src/mock-device may
 * import only src/protocol. Messages and details never hold a secret.
 */

export interface CodedErrorOptions {
  /** What the person should do next. */
  hint?: string | undefined;
  /** Machine-readable context (port name, verb, file...). Never a secret. */
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/** A coded error as data: what `toJSON` gives, what a report and the API carry. */
export interface CodedErrorJson {
  code: string;
  message: string;
  hint?: string;
  [detail: string]: unknown;
}

export class CodedError<Code extends string = string> extends Error {
  override name = 'CodedError';
  readonly code: Code;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: Code, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The JSON view (no stack, no cause chain): code, message, hint, then the details. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

export function isCodedError(error: unknown, code?: string): error is CodedError {
  return error instanceof CodedError && (code === undefined || error.code === code);
}

/** `error` as plain JSON data (absent fields left out), for a report that outlives the error. */
export function codedErrorJson(error: CodedError): CodedErrorJson {
  return JSON.parse(JSON.stringify(error.toJSON())) as CodedErrorJson;
}
