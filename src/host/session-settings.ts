/**
 * The session's settings (its options with the defaults filled in) and what they make of one
 * request's exchange: the reply timeout by the command's class (command table), the doubling
 * retransmission wait, the 503 backoff and how many DATA lines a reply announces.
 */
import { announcedDataLines, COMMANDS, type CommandSpec, type Verb } from '../protocol/index.js';
import { type ExchangeConfig, type Fields, retransmitWaitMs } from './exchange.js';
import type { SessionOptions } from './session-types.js';
import type { RandomSource } from './timers.js';

/**
 * Defaults. At 115200 baud a full 512-byte line takes 45 ms, so 2 s is many round trips of a
 * terminal that answers at all; DIAG's checks (network, host) may each take seconds, and its timer
 * restarts at every DATA line. Retransmissions: the reply waits are 2, 4, 8 and 8 s (plus up to an
 * eighth of jitter each after the first), so a silent terminal is given up after at most 24.5 s.
 * 503 backoff: 200, 400, 800, 1600, 2000, 2000... ms, 8 retries, about 11 s in all: longer than a
 * reboot's not-ready window (0.5 s on the mock).
 */
export const SESSION_DEFAULTS = {
  timeoutMs: 2000,
  slowTimeoutMs: 15_000,
  maxRetransmits: 3,
  retransmitBackoffMaxMs: 8000,
  busyRetries: 8,
  busyBackoffMs: 200,
  busyBackoffMaxMs: 2000,
} as const;

export type SessionSettings = Required<
  Omit<SessionOptions, 'logger' | 'timers' | 'clock' | 'random' | 'trace' | 'onRetransmit'>
>;

export function sessionSettings(options: SessionOptions): SessionSettings {
  return {
    timeoutMs: options.timeoutMs ?? SESSION_DEFAULTS.timeoutMs,
    slowTimeoutMs: options.slowTimeoutMs ?? SESSION_DEFAULTS.slowTimeoutMs,
    maxRetransmits: options.maxRetransmits ?? SESSION_DEFAULTS.maxRetransmits,
    retransmitBackoffMaxMs: options.retransmitBackoffMaxMs ?? SESSION_DEFAULTS.retransmitBackoffMaxMs,
    busyRetries: options.busyRetries ?? SESSION_DEFAULTS.busyRetries,
    busyBackoffMs: options.busyBackoffMs ?? SESSION_DEFAULTS.busyBackoffMs,
    busyBackoffMaxMs: options.busyBackoffMaxMs ?? SESSION_DEFAULTS.busyBackoffMaxMs,
  };
}

/** `requestTimeoutMs`: the request's own reply timeout (RequestOptions.timeoutMs), if it has one. */
export function exchangeConfig(
  verb: Verb,
  requestTimeoutMs: number | undefined,
  settings: SessionSettings,
  random: RandomSource,
): ExchangeConfig {
  const spec: CommandSpec = COMMANDS[verb];
  const timeoutMs =
    requestTimeoutMs ?? (spec.timeout === 'slow' ? settings.slowTimeoutMs : settings.timeoutMs);
  return {
    timeoutMs,
    retransmitWaitMs: (timeouts) =>
      retransmitWaitMs(timeoutMs, timeouts, settings.retransmitBackoffMaxMs, random),
    maxRetransmits: settings.maxRetransmits,
    busyRetries: settings.busyRetries,
    busyBackoffMs: busyBackoffOf(settings),
    // Tells a complete reply from one that lost a line (exchange.ts).
    expectedData: expectedDataOf(verb),
  };
}

/** 503 backoff: doubles from busyBackoffMs up to busyBackoffMaxMs (one function per session's settings). */
const busyBackoffBySettings = new WeakMap<SessionSettings, (attempt: number) => number>();
function busyBackoffOf(settings: SessionSettings): (attempt: number) => number {
  let backoff = busyBackoffBySettings.get(settings);
  if (!backoff) {
    backoff = (attempt) => Math.min(settings.busyBackoffMaxMs, settings.busyBackoffMs * 2 ** (attempt - 1));
    busyBackoffBySettings.set(settings, backoff);
  }
  return backoff;
}

/** How many DATA lines an OK of `verb` announces: one function per verb, made once. */
const expectedDataByVerb = new Map<Verb, (ok: Fields) => number | undefined>();
function expectedDataOf(verb: Verb): (ok: Fields) => number | undefined {
  let expected = expectedDataByVerb.get(verb);
  if (!expected) {
    expected = (ok) => announcedDataLines(verb, ok);
    expectedDataByVerb.set(verb, expected);
  }
  return expected;
}
