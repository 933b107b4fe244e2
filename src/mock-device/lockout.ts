/**
 * TSP/1 lockout, terminal-wide (docs/protocol.md §13). `lockout.max` failures
 * (LOGIN, or PASSWD with a wrong `old`) lock the terminal for `lockout.seconds`. While locked,
 * LOGIN and PASSWD-with-old get 423, which neither counts nor extends the lock. The end of a lock
 * and a success reset the count. `lockout.max=0` disables it: failures are not counted. Lowering
 * `lockout.max` below the count locks at the next failure. Times are host-clock milliseconds (TIME
 * does not move a lock).
 */
import type { PersistentState } from './state.js';

export function lockoutMax(state: PersistentState): number {
  return Number(state.settings['lockout.max']);
}

export function lockoutEnabled(state: PersistentState): boolean {
  return lockoutMax(state) > 0;
}

/** Ends a lock whose time is up (the count starts again). Returns true when the state changed. */
export function expireLock(state: PersistentState, now: number): boolean {
  const { lockout } = state;
  if (lockout.lockedUntil === null || now < lockout.lockedUntil) return false;
  lockout.lockedUntil = null;
  lockout.failures = 0;
  return true;
}

export function isLocked(state: PersistentState, now: number): boolean {
  return state.lockout.lockedUntil !== null && now < state.lockout.lockedUntil;
}

/** Seconds until the lock ends, rounded up, at least 1. */
export function retryAfter(state: PersistentState, now: number): number {
  const until = state.lockout.lockedUntil ?? now;
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/** STATUS `attempts_left`: undefined while lockout is disabled, 0 while locked. */
export function attemptsLeft(state: PersistentState, now: number): number | undefined {
  if (!lockoutEnabled(state)) return undefined;
  if (isLocked(state, now)) return 0;
  return Math.max(0, lockoutMax(state) - state.lockout.failures);
}

export interface FailureOutcome {
  /** 401 `remaining=`: undefined while lockout is disabled. */
  remaining: number | undefined;
  /** This failure locked the terminal (emit `EVT lockout`). */
  locked: boolean;
}

/** Counts one failed attempt (the caller has checked the terminal is not locked). */
export function recordFailure(state: PersistentState, now: number): FailureOutcome {
  const max = lockoutMax(state);
  if (max === 0) return { remaining: undefined, locked: false };
  const { lockout } = state;
  lockout.failures++;
  if (lockout.failures >= max) {
    lockout.lockedUntil = now + Number(state.settings['lockout.seconds']) * 1000;
    return { remaining: 0, locked: true };
  }
  return { remaining: max - lockout.failures, locked: false };
}

/** A correct password: the count starts again. Returns true when the state changed. */
export function recordSuccess(state: PersistentState): boolean {
  if (state.lockout.failures === 0) return false;
  state.lockout.failures = 0;
  return true;
}
