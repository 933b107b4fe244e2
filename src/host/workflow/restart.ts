/**
 * A terminal that restarts in the middle of a provisioning (a brown-out, a watchdog: EVT boot)
 * loses the login, and the command in flight has an unknown outcome (docs/protocol.md §18). The
 * workflow reads the terminal's state first at every step, so the run can go on by itself: it
 * identifies the terminal again (HELLO, STATUS), logs in again through the lockout-safe path
 * (admin-login.ts) and redoes only what STATUS and the reads show missing; the interrupted
 * command is never sent again blindly. Once per run: a terminal that restarts again is not well,
 * and the run stops (REBOOTED, exit 3) for a person to look at it.
 */
import { isPosbridgeError, PosbridgeError } from '../errors.js';
import type { StepRecord, TerminalIdentity } from './report.js';

/** Restarts a run goes on after; the next one stops it. */
export const RESTARTS_RESUMED_PER_RUN = 1;

/** Whether `error` is a restart the run may go on after, `resumed` restarts having been. */
export function mayResume(error: unknown, resumed: number): error is PosbridgeError {
  return isPosbridgeError(error, 'REBOOTED') && resumed < RESTARTS_RESUMED_PER_RUN;
}

/** The `resume` step: which step the restart cut, and what happens now. */
export function resumeStep(steps: readonly StepRecord[], now: Date): StepRecord {
  const cut = steps.at(-1);
  const during = cut ? ` during ${cut.step}` : '';
  const at = now.toISOString();
  return {
    step: 'resume',
    outcome: 'done',
    detail: `the terminal restarted (EVT boot)${during}: identifying it and logging in again, then going on from what it reports (once per run)`,
    startedAt: at,
    finishedAt: at,
  };
}

/** After the restart the port must still lead to the terminal the run started on. */
export function checkSameTerminal(known: TerminalIdentity, sn: string, port: string): void {
  if (known.sn === sn) return;
  throw new PosbridgeError(
    'WRONG_TERMINAL',
    `after the restart ${port} answers as terminal ${sn}, not ${known.sn}`,
    {
      hint: 'check which terminal is on the cable, then run again',
    },
  );
}

/** A second restart in one run: the run stops as it did before restarts were resumed. */
export function restartedAgain(error: PosbridgeError): PosbridgeError {
  return new PosbridgeError(
    'REBOOTED',
    `${error.message}; the terminal had already restarted once in this run (posbridge goes on after one restart per run)`,
    {
      hint: 'A terminal that keeps restarting needs a look (power, battery, cable). Then run the command again: it reads the terminal state first.',
      details: error.details,
      cause: error,
    },
  );
}
