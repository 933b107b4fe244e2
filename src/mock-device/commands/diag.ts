/**
 * DIAG runs the checks in the order of `checks=` (default DIAG_CHECK_ORDER) and sends one DATA
 * line as each finishes, so a sender's timeout restarts with each line. A check takes
 * DIAG_CHECKS[check].typicalMs x diagTimeScale (0: all at once, synchronously, as unit tests
 * want); `ms=` is its measured duration on the terminal's clock.
 */

import type { TimerHandle } from '../../protocol/index.js';
import {
  asciiOf,
  DIAG_CHECK_ORDER,
  DIAG_CHECKS,
  type DiagCheck,
  type DiagStatus,
  encodeDataFields,
  isDiagCheck,
} from '../../protocol/index.js';
import { evaluateCheck } from '../diag-evaluate.js';
import { echoBytes } from './args.js';
import {
  type CommandContext,
  type CommandHandler,
  type CommandResult,
  type Final,
  fail,
  ok,
} from './context.js';

export const diag: CommandHandler = {
  run(ctx) {
    const checks = requestedChecks(ctx);
    return Array.isArray(checks) ? runChecks(ctx, checks) : checks;
  },
};

/**
 * D15, D36: an empty list or an empty name is 422 invalid-value; then the first unknown name from
 * the left is 422 unknown-check `check=NAME` (its bytes, echoed cut); only then a repeat is 422
 * invalid-value. So `printer,printer,modem` names modem.
 */
function requestedChecks(ctx: CommandContext): DiagCheck[] | Final {
  const { request } = ctx;
  const value = request.args.get('checks');
  if (value === undefined) return [...DIAG_CHECK_ORDER];
  const invalid = fail(
    'invalid-value',
    { key: 'checks' },
    'checks: a comma-separated list of check names, no repeats',
  );
  const names = splitNames(value);
  if (names.some((name) => name.length === 0)) return invalid;
  // violate:rule=diag-repeats-first: repeats are refused before unknown names are looked at.
  if (ctx.core.violates('diag-repeats-first') && new Set(names.map((n) => n.join(','))).size < names.length)
    return invalid;
  const unknown = names.find((name) => !isDiagCheck(asciiOf(name) ?? ''));
  if (unknown !== undefined) return fail('unknown-check', { check: echoBytes(unknown) });
  const checks = names.map((name) => asciiOf(name) as DiagCheck);
  return new Set(checks).size === checks.length ? checks : invalid;
}

/** The names of `checks=`, split at commas (0x2C), as bytes: a name may hold any byte. */
function splitNames(value: Uint8Array): Uint8Array[] {
  const names: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value[i] === 0x2c) {
      names.push(value.subarray(start, i));
      start = i + 1;
    }
  }
  return names;
}

function runChecks(ctx: CommandContext, checks: DiagCheck[]): CommandResult {
  const { core } = ctx;
  const counts: Record<DiagStatus, number> = { pass: 0, warn: 0, fail: 0 };
  const duration = (check: DiagCheck) =>
    Math.max(0, Math.round(DIAG_CHECKS[check].typicalMs * core.diagTimeScale));
  const report = (check: DiagCheck, startedAt: number) => {
    const result = evaluateCheck(core.state, check);
    counts[result.status]++;
    const ms = Math.max(0, Math.round(core.clock.now() - startedAt));
    ctx.data(encodeDataFields('DIAG', { check, ...result, ms }));
  };
  const summary = () => ok('DIAG', counts);

  let next = 0;
  while (next < checks.length && duration(checks[next]!) === 0) report(checks[next++]!, core.clock.now());
  if (next === checks.length) return summary();

  return {
    deferred(finish, failed) {
      let timer: TimerHandle | undefined;
      const step = () => {
        if (next === checks.length) {
          finish(summary());
          return;
        }
        const check = checks[next]!;
        const startedAt = core.clock.now();
        const done = () => {
          timer = undefined;
          // Node's timers may fire up to a millisecond early by the clock (libuv rounds its loop
          // time): wait out the rest, so a check never reports less than it takes. A clock that
          // stands still (a test's fixed one) has no rest to wait out.
          const now = core.clock.now();
          const rest = startedAt + duration(check) - now;
          if (rest > 0 && now !== startedAt) {
            timer = core.timers.setTimeout(done, Math.ceil(rest));
            return;
          }
          try {
            report(check, startedAt);
            next++;
            step();
          } catch (error) {
            failed(error);
          }
        };
        timer = core.timers.setTimeout(done, duration(check));
      };
      step();
      return () => {
        if (timer !== undefined) core.timers.clearTimeout(timer);
        timer = undefined;
      };
    },
  };
}
