/**
 * Who a terminal says it is: HELLO's `model`, `sn` and `fw`, each a bare token of 1 to 32
 * characters (docs/protocol.md §15, HELLO). One shape for the host (what a run worked on), the
 * mock (who it answers as) and station mode (the manifest's serial numbers).
 */
import { MAX_IDENTITY_TEXT } from './limits.js';
import { isBareToken } from './value-codec.js';

export interface TerminalIdentity {
  /** Bare token, 1-32 characters. */
  model: string;
  /** Bare token, 1-32 characters; RESET asks for it as `confirm=`. */
  sn: string;
  /** Bare token, 1-32 characters. */
  fw: string;
}

/** Why a model, sn or fw value cannot be one, or undefined. */
export function identityProblem(value: string): string | undefined {
  if (value.length < 1 || value.length > MAX_IDENTITY_TEXT)
    return `must be 1 to ${MAX_IDENTITY_TEXT} characters`;
  if (!isBareToken(value)) return 'may only use letters, digits and _.:,+/-';
  return undefined;
}
