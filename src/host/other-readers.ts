/**
 * Replies that look like noise, or that never come, are as often another program reading the
 * same serial port (a console left open, ModemManager probing a new ttyACM, `cat /dev/ttyUSB0`)
 * as a bad cable: each byte the terminal sends goes to whichever reader asks first, so both see
 * torn lines. The session's own hint says so (session.ts); this names the program when /proc
 * shows one with the device open, instead of sending the technician to check the cable.
 */
import { isPosbridgeError, PosbridgeError } from './errors.js';
import { describeHolders, type PortHolder } from './ports/holders.js';

/** Failure reasons of the session (exchange.ts) that another reader of the port explains. */
const STOLEN_REPLY_REASONS = new Set(['bad-crc', 'unreadable', 'incomplete', 'timeout']);

/**
 * `error` with a hint naming the other processes that have the port open, when it is a damaged-
 * reply or no-reply failure and `otherHolders` finds some; otherwise `error` unchanged.
 */
export async function explainByOtherReaders(
  error: unknown,
  otherHolders: (() => Promise<PortHolder[]>) | undefined,
): Promise<unknown> {
  if (otherHolders === undefined || !isPosbridgeError(error)) return error;
  if (error.code !== 'BAD_REPLY' && error.code !== 'TIMEOUT') return error;
  if (!STOLEN_REPLY_REASONS.has(String(error.details.reason))) return error;
  let others: PortHolder[];
  try {
    others = (await otherHolders()).filter((holder) => !holder.self);
  } catch {
    return error;
  }
  if (others.length === 0) return error;
  const port = String(error.details.port ?? 'the port');
  return new PosbridgeError(error.code, error.message, {
    hint: `Another program has ${port} open and is probably reading the terminal's replies: ${describeHolders(others)}. Close it, then run the command again (it resumes).`,
    details: { ...error.details, otherHolders: others },
    cause: error.cause,
  });
}
