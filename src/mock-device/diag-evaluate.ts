/**
 * What one self-diagnostic check finds on this terminal. A configured hardware fault
 * (--diag-fail) wins; otherwise the tamper latch fails `tamper`, an unset clock warns `clock`
 * (not_set until TIME) and an unset host address warns `host` (not_configured until host.addr is
 * set); everything else passes. Codes and hints come from DIAG_CHECKS.
 */
import { type DiagCheck, type DiagStatus, diagCode } from '../protocol/index.js';
import type { PersistentState } from './state.js';

export interface DiagFinding {
  status: DiagStatus;
  code?: string;
  hint?: string;
}

export function evaluateCheck(state: PersistentState, check: DiagCheck): DiagFinding {
  const configured = state.hardware.diagFaults[check];
  if (configured !== undefined) {
    const spec = diagCode(check, configured);
    if (spec) return { status: spec.status, code: configured, hint: spec.hint };
  }
  if (check === 'tamper' && state.hardware.tamper) return withCode(check, 'tampered');
  if (check === 'clock' && !state.clock.set) return withCode(check, 'not_set');
  if (check === 'host' && state.settings['host.addr'] === '') return withCode(check, 'not_configured');
  return { status: 'pass' };
}

function withCode(check: DiagCheck, code: string): DiagFinding {
  const spec = diagCode(check, code)!;
  return { status: spec.status, code, hint: spec.hint };
}
