/**
 * How a request that failed becomes the error its caller sees: a TerminalError for an ERR that
 * reads as one; the session's own end (DISCONNECTED, CLOSED) for a request it cut off; otherwise
 * a PosbridgeError whose code and hint say what to do about the reason the exchange names
 * (exchange.ts).
 */
import { ERR_REPLY, type Verb } from '../protocol/index.js';
import { PosbridgeError, type PosbridgeErrorCode, TerminalError } from './errors.js';
import type { ExchangeFailureReason, Fields } from './exchange.js';

/** The request as the error names it. */
export interface FailedRequest {
  port: string;
  verb: Verb;
  /** Undefined for a request that never went out. */
  id: string | undefined;
  /** Lines sent, the first one included. */
  sends: number;
}

export interface Failure {
  reason: ExchangeFailureReason;
  detail: string;
  /** The ERR line's fields, when an ERR ended it. */
  fields?: Fields | undefined;
}

/** `ended`: the session's end, if it has ended. */
export function requestFailure(
  request: FailedRequest,
  { reason, detail, fields }: Failure,
  ended: PosbridgeError | undefined,
): PosbridgeError {
  const { verb, id } = request;
  // An ERR that does not read as one (no code=, ...) is a BAD_REPLY, "refused without saying why".
  if (fields && (reason === 'refused' || reason === 'busy') && ERR_REPLY.decode(fields).ok)
    return new TerminalError({ verb, id, fields });
  const details = {
    port: request.port,
    verb,
    ...(id !== undefined && { id }),
    sends: request.sends,
    reason,
  };
  if ((reason === 'closed' || reason === 'disconnected') && ended) {
    return new PosbridgeError(ended.code, `${verb}: ${ended.message}`, {
      hint: ended.hint,
      details,
      cause: ended.cause,
    });
  }
  const [code, hint] = FAILURE_TEXT[reason];
  return new PosbridgeError(code, `${verb} on ${request.port}: ${detail}`, { hint, details });
}

const NOISE_HINT =
  'The replies arrive damaged: another program may be reading the port (close consoles and other serial tools), or the line is noisy or --baud is wrong (check the cable). Then run the command again.';

const FAILURE_TEXT: Record<ExchangeFailureReason, [PosbridgeErrorCode, string]> = {
  timeout: [
    'TIMEOUT',
    'The terminal stopped answering: check that it is on, the cable, and --baud; then run the command again (it resumes).',
  ],
  'bad-crc': ['BAD_REPLY', NOISE_HINT],
  unreadable: ['BAD_REPLY', NOISE_HINT],
  incomplete: ['BAD_REPLY', NOISE_HINT],
  refused: ['BAD_REPLY', 'The terminal refused without saying why.'],
  busy: ['TIMEOUT', 'The terminal stayed busy: wait a moment and run the command again.'],
  'reboot-lost': [
    'REBOOTED',
    'The terminal restarted in the middle of the command. Run the command again: it reads the terminal state first.',
  ],
  disconnected: ['DISCONNECTED', 'Check the cable and that the terminal is on, then run the command again.'],
  closed: ['CLOSED', 'The session was closed.'],
};
