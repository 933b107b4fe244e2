/**
 * What a command handler sees and returns. Handlers are small functions over the terminal's state;
 * the engine (terminal.ts) does framing, replay, authorization, persistence and output.
 */
import type {
  Clock,
  ErrInput,
  ErrorSlug,
  EventInput,
  EventName,
  FieldList,
  OkInput,
  Request,
  Timers,
  Verb,
} from '../../protocol/index.js';
import { encodeOkFields, errorReply, freeText, MAX_FREE_TEXT } from '../../protocol/index.js';
import type { Login } from '../connection.js';
import type { Violation } from '../faults/violate.js';
import type { Random } from '../prng.js';
import type { PersistentState } from '../state.js';

/** The terminal as handlers use it. */
export interface TerminalCore {
  /** Mutable; call commit() after changing it. */
  readonly state: PersistentState;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  /** DIAG processing time = typicalMs x this. */
  readonly diagTimeScale: number;
  /** The terminal's own clock (host clock + TIME offset), epoch ms. */
  terminalNow(): number;
  /** A behaviour breaks this rule of docs/protocol.md on purpose (faults/violate.ts). */
  violates(rule: Violation): boolean;
  /** Persist the state (like writing flash). */
  commit(): void;
  /** An event to every open connection. */
  broadcast<N extends EventName>(name: N, value: EventInput<N>): void;
  /** End the logins for which `match` is true, on every connection. */
  endLogins(match: (login: Login) => boolean): void;
  /** Forget every connection's replay cache. */
  clearReplayCaches(): void;
  /** Go down now, come back after the reboot time with `EVT boot`. */
  reboot(): void;
  /** Factory state again (clock and hardware kept). */
  resetToFactory(): void;
}

export interface LoginState {
  login: Login | undefined;
}

export interface CommandContext {
  readonly core: TerminalCore;
  readonly session: LoginState;
  readonly request: Request;
  /** Send a DATA line of this reply now (its fields from encodeDataFields). */
  data(fields: FieldList): void;
  /** Run after the final line is written (events that follow the reply, reboot, ...). */
  afterReply(effect: () => void): void;
}

/** The final line: an OK's fields (encoded by the command's codec), or the ERR to encode. */
export type Final = { ok: true; fields: FieldList } | { ok: false; err: ErrInput };

/**
 * A reply that finishes later (DIAG): started once, it calls `finish` with the final line, or
 * `failed` when it throws from a timer (answered 500 internal); it returns a cancel function.
 */
export interface Deferred {
  deferred(finish: (final: Final) => void, failed: (error: unknown) => void): () => void;
}

export type CommandResult = Final | Deferred;

export interface CommandHandler {
  /** Checks that come before authorization (syntax that depends on argument values: PASSWD's old=). */
  precheck?(ctx: CommandContext): Final | undefined;
  run(ctx: CommandContext): CommandResult;
}

/** The OK of `verb`, written by its codec (the command table's shape); `ok('LOGOUT')` when bare. */
export function ok<V extends Verb>(
  verb: V,
  ...value: Record<string, never> extends OkInput<V> ? [OkInput<V>?] : [OkInput<V>]
): Final {
  return { ok: true, fields: encodeOkFields(verb, (value[0] ?? {}) as OkInput<V>) };
}

/** An error reply; the code follows from the slug. `msg` is fitted to TSP/1's free-text bound (D47). */
export function fail(
  reason: ErrorSlug,
  fields: Omit<ErrInput, 'code' | 'reason' | 'msg'> = {},
  msg?: string,
): Final {
  return {
    ok: false,
    err: errorReply(reason, msg === undefined ? fields : { ...fields, msg: freeText(msg, MAX_FREE_TEXT) }),
  };
}

export function isDeferred(result: CommandResult): result is Deferred {
  return 'deferred' in result;
}
