/**
 * Every option of the mock terminal in one typed place, with unit, range and default, checked at
 * start-up (a bad option is a MockConfigError naming it, before anything listens).
 */

import type { Clock, TerminalIdentity, Timers } from '../protocol/index.js';
import { DEFAULT_BAUD } from '../protocol/index.js';
import type { MockBehaviour } from './behaviour.js';
import { type DiagFaults, parseDiagFaults, validateDiagFaults } from './diag-faults.js';
import { MockConfigError } from './errors.js';
import type { FaultSpec } from './faults/index.js';
import type { MockLogger } from './logger.js';
import type { StateStore } from './state-store.js';

export interface MockTerminalOptions {
  /** model, sn, fw (bare tokens, 1-32 chars). Defaults: PB-MOCK, PBM0000001, 1.0.0. */
  identity?: Partial<TerminalIdentity>;
  /**
   * The terminal's flash. Default: in memory (a factory-fresh terminal). With a FileStateStore the
   * state is loaded at start if present and saved after every change. A stored state belongs to
   * one serial number: another `identity.sn` is refused; `model` and `fw` given here replace the
   * stored ones (a firmware update).
   */
  store?: StateStore;
  /** Sets (true) or clears (false) the PIN-pad tamper latch; undefined keeps the stored one. */
  tamper?: boolean;
  /**
   * Hardware faults DIAG reports, `printer:paper_out,network:no_sim` or `{ printer: 'paper_out' }`;
   * replaces the stored ones; undefined keeps them.
   */
  diagFaults?: string | Record<string, string>;
  /** Faults as a spec (`drop:p=0.05;delay:ms=200`) or a list (docs/mock.md). */
  faults?: string | readonly FaultSpec[];
  /** Behaviours consulted before the faults' (a test's own fault goes here). */
  behaviours?: readonly MockBehaviour[];
  /** Seed of every random choice (faults, password salts). Integer; default 1. */
  seed?: number;
  /** Line rate in bit/s of each connection's output (10 bits per byte); 0 = unpaced. Default 115200. */
  baud?: number;
  /** How long REBOOT keeps the terminal down, ms. Default 500. */
  rebootMs?: number;
  /** DIAG processing time = DIAG_CHECKS[check].typicalMs x this. Default 1; 0 = instant (unit tests). */
  diagTimeScale?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: Node's timers (unref'd). */
  timers?: Timers;
  /** Default: silent. */
  logger?: MockLogger;
  /** Keep what the terminal received, executed and sent, for `recording()` (tests). Default false. */
  record?: boolean;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_REBOOT_MS = 500;

export interface ResolvedNumbers {
  seed: number;
  baud: number;
  rebootMs: number;
  diagTimeScale: number;
  diagFaults: DiagFaults | undefined;
}

export function resolveNumbers(options: MockTerminalOptions): ResolvedNumbers {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new MockConfigError(`invalid seed ${seed}: must be an integer`);
  const baud = options.baud ?? DEFAULT_BAUD;
  if (!Number.isInteger(baud) || baud < 0)
    throw new MockConfigError(`invalid baud ${baud}: must be a whole number (0: unpaced)`);
  const rebootMs = options.rebootMs ?? DEFAULT_REBOOT_MS;
  if (!Number.isFinite(rebootMs) || rebootMs < 0)
    throw new MockConfigError(`invalid rebootMs ${rebootMs}: must be 0 or more`);
  const diagTimeScale = options.diagTimeScale ?? 1;
  if (!Number.isFinite(diagTimeScale) || diagTimeScale < 0) {
    throw new MockConfigError(`invalid diagTimeScale ${diagTimeScale}: must be 0 or more`);
  }
  const { diagFaults } = options;
  const faults =
    diagFaults === undefined
      ? undefined
      : typeof diagFaults === 'string'
        ? parseDiagFaults(diagFaults)
        : validateDiagFaults(diagFaults);
  return { seed, baud, rebootMs, diagTimeScale, diagFaults: faults };
}
