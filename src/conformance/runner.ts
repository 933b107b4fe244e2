/**
 * A run of the suite: identify the terminal, RESET it to factory state, run each check from its
 * starting state within its time limit, RESET again at the end, and report.
 *
 * Nothing here waits without a bound: every exchange has a reply timeout, every check a time
 * limit after which its waits are aborted, and the runner does not even wait for a check that
 * ignores the abort. After a failed check, late lines are read and dropped until the line is
 * quiet, so they are not taken for the next check's replies.
 */
import { PosbridgeError } from '../host/errors.js';
import type { Transport } from '../host/ports/index.js';
import type { WireTrace } from '../host/trace.js';
import type { Timers } from '../protocol/index.js';
import { maskLine } from '../protocol/index.js';
import { type Check, type CheckResult, GROUP_RULES, type Group, type StartState } from './check.js';
import { Ctx, type Identity } from './context.js';
import { CannotContinue, CheckFailure, LinkLost } from './failure.js';
import { showBytes } from './lines.js';
import { SPEC } from './spec.js';
import { enterState, type FirstReset, resetToFactory } from './states.js';
import { RawWire, type WireRecord } from './wire.js';

export interface SuiteOptions {
  transport: Transport;
  /** The checks to run, in order. */
  checks: readonly Check[];
  /** The groups asked for (for the report). */
  groups: readonly Group[];
  /** Asked only when the terminal no longer holds its factory admin password. */
  adminPassword: FirstReset['adminPassword'];
  timers: Timers;
  /** The computer's clock, ms since the epoch. */
  now(): number;
  /** Reply timeout per exchange, ms. */
  timeoutMs: number;
  /** DIAG's reply timeout per line, ms. */
  diagTimeoutMs: number;
  /** How long a REBOOT may keep the terminal down, ms. */
  rebootTimeoutMs: number;
  /** A check's time limit unless it sets its own, ms. Default 30000. */
  checkBudgetMs?: number;
  /** How long the line must be quiet after a failed check, ms. Default 100. */
  settleMs?: number;
  /** The run's first request ID (§18: random). */
  firstId: number;
  /** posbridge's version, for the summary. */
  version: string;
  /** The serial number a person typed to consent: the run stops after HELLO if it is not this terminal's. */
  confirmSn?: string | undefined;
  /** `--trace FILE`. */
  trace?: WireTrace | undefined;
  onIdentity?(identity: Identity): void;
  onResult?(result: CheckResult): void;
}

export interface SuiteReport {
  kind: 'conformance';
  port: string;
  terminal: Identity;
  posbridge: string;
  spec: typeof SPEC;
  groups: Group[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  counts: { total: number; pass: number; fail: number; skip: number };
  results: CheckResult[];
  /** Whether the terminal was RESET to factory state at the end. */
  finalReset: 'done' | 'failed';
  /** Why the run stopped before its last check, if it did. */
  stopped?: { reason: 'link-lost' | 'cannot-continue'; message: string };
}

const WIRE_LINES_SHOWN = 12;

export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const startedAt = options.now();
  const wire = new RawWire(options.transport, options.now, options.trace);
  const t = new Ctx(wire, {
    timers: options.timers,
    timeoutMs: options.timeoutMs,
    firstId: options.firstId,
    diagTimeoutMs: options.diagTimeoutMs,
    rebootTimeoutMs: options.rebootTimeoutMs,
    now: options.now,
  });
  try {
    t.identity = await identify(t);
    if (options.confirmSn !== undefined && options.confirmSn !== t.identity.sn)
      throw new PosbridgeError(
        'USAGE',
        `the terminal on ${options.transport.name} is ${t.identity.sn}, not ${options.confirmSn}: nothing was changed`,
        {
          hint: 'Type the serial number of the terminal you mean to erase (posbridge info --port P shows it).',
        },
      );
    options.onIdentity?.(t.identity);
    await resetToFactory(t, { adminPassword: options.adminPassword }).catch((error) => {
      throw asRunError(error, options.transport.name);
    });

    const results: CheckResult[] = [];
    let stopped: SuiteReport['stopped'];
    let current: StartState | undefined = 'factory';
    for (const check of options.checks) {
      if (stopped) {
        results.push(skipped(check, stopped.message));
        options.onResult?.(results.at(-1)!);
        continue;
      }
      const { result, leftIn, stop } = await runOne(t, check, current, options);
      current = leftIn;
      stopped = stop;
      results.push(result);
      options.onResult?.(result);
    }

    let finalReset: SuiteReport['finalReset'] = 'failed';
    if (stopped?.reason !== 'link-lost') {
      t.signal = undefined;
      finalReset = await resetToFactory(t).then(
        () => 'done' as const,
        () => 'failed' as const,
      );
    }
    const finishedAt = options.now();
    const count = (outcome: CheckResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
    return {
      kind: 'conformance',
      port: options.transport.name,
      terminal: t.identity,
      posbridge: options.version,
      spec: SPEC,
      groups: [...options.groups],
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      counts: { total: results.length, pass: count('pass'), fail: count('fail'), skip: count('skip') },
      results,
      finalReset,
      ...(stopped && { stopped }),
    };
  } finally {
    wire.dispose();
  }
}

/** HELLO: who the terminal is. No answer is "unreachable" (exit 3), not a failed check. */
async function identify(t: Ctx): Promise<Identity> {
  let hello: Awaited<ReturnType<Ctx['exchange']>>;
  try {
    hello = await t.exchange(t.line('HELLO'), { lax: true });
  } catch (error) {
    if (error instanceof LinkLost)
      throw new PosbridgeError('DISCONNECTED', `${t.wire.name}: the link went away: ${error.message}`);
    throw new PosbridgeError(
      'TIMEOUT',
      `${t.wire.name}: no answer to HELLO within ${t.options.timeoutMs} ms`,
      {
        hint: 'Check the port, the cable and the baud rate (--baud); a terminal answers HELLO at any time (docs/protocol.md §15).',
      },
    );
  }
  const { fields, kind } = hello.final;
  if (kind !== 'ok' || !fields.sn || fields.model === undefined || fields.fw === undefined)
    throw new PosbridgeError(
      'BAD_REPLY',
      `${t.wire.name}: HELLO was answered ${showBytes(hello.final.raw.text)}`,
      {
        hint: 'The device does not answer like a TSP/1 terminal (docs/protocol.md §15 HELLO): check the port and the baud rate.',
      },
    );
  return { model: fields.model, sn: fields.sn, fw: fields.fw };
}

function asRunError(error: unknown, port: string): unknown {
  if (error instanceof LinkLost)
    return new PosbridgeError('DISCONNECTED', `${port}: the link went away: ${error.message}`);
  if (error instanceof CheckFailure || error instanceof CannotContinue)
    return new PosbridgeError(
      'CHECK_FAILED',
      `could not RESET the terminal to factory state: ${error.message}`,
      {
        hint: 'The suite starts from factory state (docs/conformance.md); the terminal did not get there.',
      },
    );
  return error;
}

interface OneRun {
  result: CheckResult;
  /** The state the terminal is known to be in afterwards, if any. */
  leftIn: StartState | undefined;
  stop?: SuiteReport['stopped'];
}

async function runOne(
  t: Ctx,
  check: Check,
  current: StartState | undefined,
  options: SuiteOptions,
): Promise<OneRun> {
  const budget = check.budgetMs ?? options.checkBudgetMs ?? 30_000;
  const controller = new AbortController();
  t.signal = controller.signal;
  t.rules = new Set(['read', ...(check.rules ?? GROUP_RULES[check.group])]);
  t.wire.forget();
  t.takeEvents();
  const started = options.now();
  const timer = options.timers.setTimeout(
    () => controller.abort(new CheckFailure(`the check did not finish within ${budget} ms`)),
    budget,
  );
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  let error: unknown;
  try {
    const body = (async () => {
      if (!(check.readOnly && current === check.start)) {
        await resetToFactory(t);
        await enterState(t, check.start);
      }
      await check.run(t);
    })();
    body.catch(() => undefined);
    await Promise.race([body, aborted]);
  } catch (caught) {
    error = caught;
  } finally {
    options.timers.clearTimeout(timer);
    t.signal = undefined;
  }
  const base = { id: check.id, group: check.group, section: check.section, title: check.title };
  const ms = options.now() - started;
  if (error === undefined)
    return { result: { ...base, outcome: 'pass', ms }, leftIn: check.readOnly ? check.start : undefined };

  let stop: SuiteReport['stopped'];
  let message: string;
  let detail: CheckFailure['detail'] = {};
  if (error instanceof CheckFailure) {
    message = error.message;
    detail = error.detail;
  } else if (error instanceof LinkLost) {
    message = `the link went away: ${error.message}`;
    stop = { reason: 'link-lost', message };
  } else if (error instanceof CannotContinue) {
    message = `could not bring the terminal to the check's starting state: ${error.message}`;
    stop = { reason: 'cannot-continue', message };
  } else {
    message = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!stop) {
    // An empty line ends whatever part of a line the terminal may still hold (§3: it is ignored),
    // then late lines are dropped, so the next check starts on a clean line.
    await t.write('', '\r\n').catch(() => undefined);
    await t.settle(options.settleMs ?? 100, Math.max(options.timeoutMs, 1000));
  }
  // The reply that broke the rule, when the failure names one; else the check's last lines.
  const wire = detail.sent
    ? [`C: ${maskText(detail.sent)}`, ...(detail.received ?? []).map((line) => `T: ${maskText(line)}`)]
    : describeWire(t.wire.recorded);
  const failure: NonNullable<CheckResult['failure']> = { message, wire };
  if (detail.expected !== undefined) failure.expected = maskText(detail.expected);
  if (detail.got !== undefined) failure.got = maskText(detail.got);
  if (detail.more?.length) failure.more = [...detail.more];
  return { result: { ...base, outcome: 'fail', ms, failure }, leftIn: undefined, ...(stop && { stop }) };
}

function skipped(check: Check, why: string): CheckResult {
  return {
    id: check.id,
    group: check.group,
    section: check.section,
    title: check.title,
    outcome: 'skip',
    ms: 0,
    skipped: `not run: ${why}`,
  };
}

/** The check's last lines on the wire, secrets masked (maskLine) and bytes shown as ⟨HH⟩. */
function describeWire(records: readonly WireRecord[]): string[] {
  return records.slice(-WIRE_LINES_SHOWN).map((r) => {
    const arrow = r.dir === 'out' ? 'C:' : 'T:';
    const end = r.dir === 'out' ? endName(r.end) : r.end === 'CRLF' ? '' : ` (ends with ${r.end} alone)`;
    return `${arrow} ${maskText(r.text)}${end}`;
  });
}

function endName(end: string): string {
  if (end === '\r\n') return '';
  if (end === '') return ' (no terminator)';
  return ` (ends with ${[...end].map((c) => (c === '\r' ? 'CR' : c === '\n' ? 'LF' : `⟨${c.charCodeAt(0).toString(16)}⟩`)).join(' ')})`;
}

function maskText(text: string): string {
  return showBytes(maskLine(text));
}
