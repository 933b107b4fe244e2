/**
 * An error a caller hands over in place of a value it could not produce (an operator password it
 * could not read, a generated one it could not keep): on the wire `{ code?, message, hint? }`,
 * raised on the other side as the error it was (a PosbridgeError keeps its code and hint; any
 * other error its message).
 */
import { z } from 'zod';
import { PosbridgeError, type PosbridgeErrorCode } from '../errors.js';

export const carriedError = z
  .object({
    /** Absent: the caller's error was not a PosbridgeError. */
    code: z.string().optional(),
    message: z.string(),
    hint: z.string().optional(),
  })
  .strict();

export type CarriedError = z.output<typeof carriedError>;

/** Every code, so one from the wire is taken as it is only when it is one of ours. */
const KNOWN: Record<PosbridgeErrorCode, true> = {
  PORT_NOT_FOUND: true,
  PORT_BUSY: true,
  PORT_OPEN_FAILED: true,
  PORT_LIST_FAILED: true,
  DISCONNECTED: true,
  CLOSED: true,
  TIMEOUT: true,
  REBOOTED: true,
  BAD_REPLY: true,
  TERMINAL_ERROR: true,
  USAGE: true,
  INVALID_VALUE: true,
  WEAK_PASSWORD: true,
  LOCKOUT_RISK: true,
  LOCKED: true,
  TAMPERED: true,
  CHECK_FAILED: true,
  UNSUPPORTED: true,
  BAD_CREDENTIALS: true,
  NOT_PROVISIONED: true,
  WRONG_TERMINAL: true,
  VERIFY_FAILED: true,
  BROKER_UNREACHABLE: true,
  BROKER_REFUSED: true,
  INTERNAL: true,
};

export function isErrorCode(code: unknown): code is PosbridgeErrorCode {
  return typeof code === 'string' && Object.hasOwn(KNOWN, code);
}

/** A carried error back into an error: the same kind (see the module comment). */
export function carriedToError(carried: CarriedError): Error {
  if (carried.code === undefined) return new Error(carried.message);
  return new PosbridgeError(isErrorCode(carried.code) ? carried.code : 'INTERNAL', carried.message, {
    hint: carried.hint,
  });
}

/** The other way: what a caller sends in place of a value its callback failed to give. */
export function errorToCarried(error: unknown): CarriedError {
  if (error instanceof PosbridgeError)
    return {
      code: error.code,
      message: error.message,
      ...(error.hint !== undefined && { hint: error.hint }),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** An Error in the engine, `{ error: CarriedError }` on the wire. */
export const carriedFailure = z.codec(z.object({ error: carriedError }).strict(), z.instanceof(Error), {
  decode: ({ error }) => carriedToError(error),
  encode: (error) => ({ error: errorToCarried(error) }),
});
