/**
 * Fault soak (issue 6, item 1): seeded provisioning runs, each against a fresh mock terminal with
 * a seeded random mix of faults (corrupted bytes, dropped replies, delays, pulled cables, reboots
 * mid-command, busy spells, spurious events). An interrupted run is run again, on the same
 * terminal, until `posbridge provision` reports success; the faults keep firing on the reruns
 * (they are switched off, as a technician swaps a bad cable, only after FAULTS_OFF_AFTER failed
 * attempts). Then checks.ts holds the terminal, the reports and the audit trail to account.
 *
 *   npx vitest run test/soak                               SOAK_RUNS seeds from SOAK_SEED (60 from 1)
 *   SOAK_RUNS=1000 npx vitest run test/soak/soak.test.ts --maxConcurrency 10     `npm run soak`
 *   SOAK_SEED=1234 SOAK_RUNS=1 npx vitest run test/soak    replays one seed (SOAK_TRACE=1: wire traces)
 *   SOAK_HARSHNESS=4 SOAK_SEED=50001 SOAK_RUNS=1000 ...    fault rates x4 (capped at 0.5), to explore
 *
 * Seeds run side by side (vitest's maxConcurrency, 5 unless told; SOAK_CONCURRENCY=1 runs them
 * one after the other): each has its own terminal, port and audit file.
 *
 * At the end it prints the counts: seeds, runs and reruns, interruptions by cause, faults fired
 * by kind, retransmissions (the host's resends, the terminal's replays), failures and times.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkAudit,
  checkCredentialsFile,
  checkRunsAgainstTerminal,
  checkTerminal,
  isRewrite,
  secretsOf,
  stepOf,
} from './checks.js';
import { SOAK_FAULT_KINDS, soakMix } from './mix.js';
import { type ProvisionRun, SoakRig } from './rig.js';

const BASE_SEED = intFromEnv('SOAK_SEED', 1);
const RUNS = intFromEnv('SOAK_RUNS', 60);
/** After this many failed attempts the faults are switched off (the technician swaps the cable). */
const FAULTS_OFF_AFTER = 8;
/** Then at most this many more attempts. */
const MAX_ATTEMPTS = FAULTS_OFF_AFTER + 3;
const SEED_TIMEOUT_MS = 120_000;
/** Seeds in flight at once (1: one after the other, as a replay runs). */
const CONCURRENCY = RUNS === 1 ? 1 : intFromEnv('SOAK_CONCURRENCY', 4);

/** How an interrupted run may end: the line failed, not the tool. */
const LINE_FAILURES = new Set(['TIMEOUT', 'DISCONNECTED', 'REBOOTED', 'BAD_REPLY']);

function intFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text)) throw new Error(`${name} must be a whole number, not "${text}"`);
  return Number(text);
}

function replayCommand(seed: number): string {
  const harsh = process.env.SOAK_HARSHNESS ? `SOAK_HARSHNESS=${process.env.SOAK_HARSHNESS} ` : '';
  return `${harsh}SOAK_SEED=${seed} SOAK_RUNS=1 npx vitest run test/soak/soak.test.ts`;
}

const stats = {
  seeds: 0,
  provisioned: 0,
  failedSeeds: [] as number[],
  runs: 0,
  reruns: 0,
  idempotenceRuns: 0,
  rerunsWithFaults: 0,
  seedsNeedingRerun: 0,
  /** Runs that went on after the terminal restarted (a `resume` step), without a rerun. */
  resumedRuns: 0,
  maxAttempts: 0,
  faultsSwitchedOff: [] as number[],
  interruptions: new Map<string, number>(),
  /** A few seeds per cause, to replay one. */
  interruptionSeeds: new Map<string, number[]>(),
  faults: new Map<string, number>(),
  seedsWithFault: new Map<string, number>(),
  hostResends: new Map<string, number>(),
  terminalRetransmissions: 0,
  replayed: 0,
  busyAnswers: 0,
  reboots: 0,
  cablesPulled: 0,
  secondPasswordChanges: 0,
  executionsTotal: 0,
  seedMs: [] as number[],
  startedAt: performance.now(),
};

function add(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function interruptionCause(run: ProvisionRun): string {
  const error = run.json.error;
  if (!error) return `exit ${run.code} ${run.json.outcome}`;
  // A terminal's refusal: name its status (e.g. 401 auth-required after a reboot lost our login).
  const status = /refused by the terminal: (\d+ [a-z-]+)/.exec(error.message)?.[1];
  return status ? `${error.code} ${status}` : error.code;
}

/** Whether an interrupted run failed the way a bad line makes it fail (else the tool misbehaved). */
function lineFailure(run: ProvisionRun): boolean {
  const code = run.json.error?.code;
  return code !== undefined && LINE_FAILURES.has(code) && run.code === 3;
}

async function soakSeed(seed: number): Promise<void> {
  const started = performance.now();
  const mix = soakMix(seed);
  const rig = await new SoakRig(mix).init();
  const problems: string[] = [];
  let keepFiles = false;
  stats.seeds++;
  for (const fault of new Set(mix.faults.map((f) => f.kind))) add(stats.seedsWithFault, fault);
  try {
    let success: ProvisionRun | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !success; attempt++) {
      if (attempt > FAULTS_OFF_AFTER && rig.faults.enabled) {
        rig.faults.enabled = false;
        stats.faultsSwitchedOff.push(seed);
      }
      const run = await rig.provision();
      stats.runs++;
      if (attempt > 1) {
        stats.reruns++;
        if (run.faultsFired > 0) stats.rerunsWithFaults++;
      }
      for (const [reason, n] of run.resends) add(stats.hostResends, reason, n);
      if (run.json.steps?.some((s) => s.step === 'resume')) stats.resumedRuns++;
      if (run.code === 0) {
        success = run;
        break;
      }
      if (attempt === 1) stats.seedsNeedingRerun++;
      const cause = interruptionCause(run);
      if (process.env.SOAK_DEBUG)
        console.log(`seed ${seed} run ${attempt}: ${cause}: ${run.json.error?.message}`);
      add(stats.interruptions, cause);
      const examples = stats.interruptionSeeds.get(cause) ?? [];
      if (examples.length < 5 && !examples.includes(seed))
        stats.interruptionSeeds.set(cause, [...examples, seed]);
      if (!lineFailure(run))
        problems.push(`run ${attempt} stopped with ${cause} (exit ${run.code}): ${run.json.error?.message}`);
    }
    stats.maxAttempts = Math.max(stats.maxAttempts, rig.runs.length);
    if (!success) {
      problems.push(`no success after ${rig.runs.length} attempts`);
    } else {
      // A finished terminal: a rerun, faults off, changes nothing and says so.
      rig.faults.enabled = false;
      const again = await rig.provision();
      stats.runs++;
      stats.idempotenceRuns++;
      if (again.code !== 0 || again.json.outcome !== 'already-provisioned')
        problems.push(`rerun on the finished terminal: exit ${again.code}, outcome ${again.json.outcome}`);
      const changes = rig.log
        .executed(again.logFrom, again.logTo)
        .filter((e) => stepOf(e) !== undefined && !isRewrite(e));
      if (changes.length > 0)
        problems.push(`rerun on the finished terminal executed ${changes.map((e) => e.line).join(', ')}`);
      // STATUS attempts_left is lockout.max (the tool never spent an attempt).
      const info = (await rig.info()) as { status?: { attemptsLeft?: number; locked?: boolean } };
      const max = Number(rig.terminal.snapshot().settings['lockout.max']);
      if (info.status?.attemptsLeft !== max || info.status.locked)
        problems.push(
          `STATUS at the end: attempts_left=${info.status?.attemptsLeft} locked=${info.status?.locked}, lockout.max=${max}`,
        );
      problems.push(...checkTerminal(rig));
      problems.push(...(await checkCredentialsFile(rig)));
    }
    problems.push(...checkRunsAgainstTerminal(rig));
    problems.push(...(await checkAudit(rig, await secretsOf(rig))));

    for (const [kind, n] of rig.faults.fired) add(stats.faults, kind, n);
    stats.terminalRetransmissions += rig.meter.retransmissions;
    stats.replayed += rig.log.count('replayed');
    stats.busyAnswers += rig.log.count('fault: busy');
    stats.reboots += rig.log.count('rebooting');
    stats.cablesPulled +=
      rig.log.count('fault: cable pulled (receive limit)') +
      rig.log.count('fault: cable pulled (send limit)');
    stats.executionsTotal += rig.log.executed().length;
    if (problems.length === 0) stats.provisioned++;
  } catch (error) {
    problems.push(`crashed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    stats.seedMs.push(performance.now() - started);
    keepFiles = problems.length > 0;
    await rig.close(keepFiles);
  }
  if (problems.length > 0) {
    stats.failedSeeds.push(seed);
    const runs = rig.runs
      .map(
        (r) =>
          `  run ${r.attempt}: exit ${r.code} ${r.json.outcome ?? ''} ${r.json.error?.code ?? ''} (${r.faultsFired} fault(s), ${Math.round(r.ms)} ms)`,
      )
      .join('\n');
    throw new Error(
      [
        `soak seed ${seed} failed:`,
        ...problems.map((p) => `- ${p}`),
        `faults: ${mix.spec} (profile ${mix.profile}${mix.name ? `, name "${mix.name}"` : ''})`,
        `runs:\n${runs}`,
        `files kept in ${rig.dir}`,
        `replay: ${replayCommand(seed)}`,
        `  (SOAK_TRACE=1 keeps each run's wire trace in the seed's directory, SOAK_DEBUG=1 prints each interruption;`,
        `  the faults are the seed's, but a race of a delayed reply against a timeout may go the other way)`,
        `the same terminal by hand: posbridge mock --fault "${mix.spec}" --seed ${seed} --sn ${rig.sn} --reboot-ms 20 --diag-time-scale 0 --baud 0`,
      ].join('\n'),
    );
  }
}

/** ` (seeds 1, 2, 3 ...)`, at most 12 of them; nothing for none. */
function seedList(seeds: number[]): string {
  if (seeds.length === 0) return '';
  const sorted = [...seeds].sort((a, b) => a - b);
  const more = sorted.length > 12 ? ` and ${sorted.length - 12} more` : '';
  return ` (seeds ${sorted.slice(0, 12).join(', ')}${more})`;
}

function summary(): string {
  const list = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const ms = [...stats.seedMs].sort((a, b) => a - b);
  const pct = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0);
  const hostResends = [...stats.hostResends.values()].reduce((a, b) => a + b, 0);
  const faults = SOAK_FAULT_KINDS.map(
    (k) => `${k} ${stats.faults.get(k) ?? 0} (in ${stats.seedsWithFault.get(k) ?? 0} seeds)`,
  ).join(', ');
  return [
    `fault soak: ${stats.seeds} seeds from ${BASE_SEED}, ${stats.provisioned} provisioned and checked, ${stats.failedSeeds.length} failed${seedList(stats.failedSeeds)}`,
    `  provisioning runs: ${stats.runs} (${stats.seeds} first runs, ${stats.reruns} reruns after an interruption, ${stats.idempotenceRuns} reruns on the finished terminal); ${stats.seedsNeedingRerun} seeds interrupted at least once; ${stats.rerunsWithFaults} reruns with faults firing; at most ${stats.maxAttempts} attempts; faults switched off for ${stats.faultsSwitchedOff.length} seeds${seedList(stats.faultsSwitchedOff)}`,
    `  runs that went on after a restart (logged in again, no rerun): ${stats.resumedRuns}`,
    `  interruptions: ${
      [...stats.interruptions.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([cause, n]) => `${cause} ${n} (e.g. seed ${stats.interruptionSeeds.get(cause)?.join(', ')})`)
        .join(', ') || 'none'
    }`,
    `  faults fired: ${faults}`,
    `  terminal side: ${stats.executionsTotal} commands executed, ${stats.reboots} reboots, ${stats.cablesPulled} cables pulled, ${stats.busyAnswers} busy answers, ${stats.terminalRetransmissions} retransmitted lines read, ${stats.replayed} replies replayed from the cache`,
    `  host side: ${hostResends} resends (${list(stats.hostResends)})`,
    `  time: ${((performance.now() - stats.startedAt) / 1000).toFixed(1)} s; per seed median ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`,
  ].join('\n');
}

describe(`fault soak: ${RUNS} seeded provisioning runs from seed ${BASE_SEED}`, () => {
  afterAll(() => {
    // Printed for the person running it (npm run soak), failures included.
    console.log(summary());
  });

  // Seeds run CONCURRENCY at a time (vitest's maxConcurrency caps it, 5 by default): each has
  // its own terminal, port and audit file, and the time goes to waiting for timeouts.
  (CONCURRENCY > 1 ? describe.concurrent : describe)('seeds', () => {
    for (let i = 0; i < RUNS; i++) {
      const seed = BASE_SEED + i;
      it(`seed ${seed}`, () => soakSeed(seed), SEED_TIMEOUT_MS);
    }
  });

  describe('coverage', () => {
    it.runIf(RUNS >= 40)('the mix covered every fault, and faults fired on reruns too', () => {
      for (const kind of SOAK_FAULT_KINDS) expect(stats.faults.get(kind) ?? 0, kind).toBeGreaterThan(0);
      expect(stats.rerunsWithFaults).toBeGreaterThan(0);
    });
  });
});
