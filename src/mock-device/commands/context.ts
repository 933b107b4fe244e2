/**
 * What a command handler sees and returns. Handlers are small functions over the terminal's state;
 * the engine (terminal.ts) does framing, replay, authorization, persistence and output.
 */
import type { ErrorSlug, FieldList, Request } from '../../protocol/index.js';
import { codeOfSlug, freeText, MAX_FREE_TEXT } from '../../protocol/index.js';
import type { Clock, Scheduler } from '../clock.js';
import type { Login } from '../connection.js';
import type { Random } from '../prng.js';
import type { PersistentState } from '../state.js';

/** The terminal as handlers use it. */
export interface TerminalCore {
  /** Mutable; call commit() after changing it. */
  readonly state: PersistentState;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: Random;
  /** DIAG processing time = typicalMs x this. */
  readonly diagTimeScale: number;
  /** The terminal's own clock (host clock + TIME offset), epoch ms. */
  terminalNow(): number;
  /** Persist the state (like writing flash). */
  commit(): void;
  /** An event to every open connection. */
  broadcast(name: string, fields: FieldList): void;
  /** End the logins for which `match` is true, on every connection. */
  endLogins(match: (login: Login) => boolean): void;
  /** Forget every connection's replay cache. */
  clearReplayCaches(): void;
  /** Go down now, come back after the reboot time with `EVT boot`. */
  reboot(): void;
  /** Factory state again (clock and hardware kept). */
  resetToFactory(): void;
}

export interface Session {
  login: Login | undefined;
}

export interface CommandContext {
  readonly core: TerminalCore;
  readonly session: Session;
  readonly request: Request;
  /** Send a DATA line of this reply now. */
  data(fields: FieldList): void;
  /** Run after the final line is written (events that follow the reply, reboot, ...). */
  afterReply(effect: () => void): void;
}

export type Final =
  | { ok: true; fields: FieldList }
  | { ok: false; code: number; reason: ErrorSlug; fields: FieldList };

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

export function ok(fields: FieldList = []): Final {
  return { ok: true, fields };
}

/** An error reply; the code follows from the slug. `msg` is fitted to TSP/1's free-text bound (D47). */
export function fail(reason: ErrorSlug, fields: FieldList = [], msg?: string): Final {
  const extra: FieldList = msg === undefined ? fields : [...fields, ['msg', freeText(msg, MAX_FREE_TEXT)]];
  return { ok: false, code: codeOfSlug(reason), reason, fields: extra };
}

export function isDeferred(result: CommandResult): result is Deferred {
  return 'deferred' in result;
}
