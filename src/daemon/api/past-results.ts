/**
 * A terminal's last provisioning as the audit trail holds it, for the status rows of a terminal
 * this daemon life has not provisioned (docs/dashboard.md, "The grid"): one provisioned yesterday,
 * or before the daemon restarted, is still `provisioned` with its diagnostics, not `initialized`.
 */
import { existsSync } from 'node:fs';
import { AuditStore } from '../../audit/index.js';
import { isDryRun, isMockRun } from '../../audit/runs.js';
import type { AuditRun } from '../../audit/types.js';
import type { LastResult, PastResultLookup } from './bench-status.js';

/** Dry runs changed nothing and unfinished ones have no outcome: the last of the others counts. */
const LOOK_BACK = 20;

export function lastResultOf(run: AuditRun): LastResult {
  const failed = run.steps.find((step) => step.outcome === 'failed');
  const detail = run.error?.message ?? failed?.detail;
  return {
    operation: 'provision',
    outcome: run.outcome,
    at: run.finishedAt ?? run.startedAt,
    // As a result of this daemon life keeps it (bench-status.ts): also a failed step's of a run
    // that provisioned (a diagnostic check that failed).
    ...(detail !== undefined && (failed || run.outcome !== 'provisioned') && { detail }),
    ...(run.diagnostics && { diagnostics: run.diagnostics.results }),
  };
}

/**
 * Looks a terminal up in the trail `file` by serial number (read-only; nothing when the file is
 * absent). Mock terminals share serial numbers (PBM0000001 unless told otherwise): a mock's run
 * counts only on the port it ran on.
 */
export function pastResultsIn(file: string): PastResultLookup {
  return (sn, port) => {
    if (!existsSync(file)) return undefined;
    // On the daemon's event loop: a trail held by a writer is not waited for (the default 10 s
    // would stall every request); the lookup fails and is asked again next time.
    const store = AuditStore.open(file, { readonly: true, busyTimeoutMs: 50 });
    try {
      const run = store
        .history({ sn, kind: 'provision', limit: LOOK_BACK })
        .find(
          (candidate) =>
            candidate.outcome !== 'unfinished' &&
            !isDryRun(candidate) &&
            (!isMockRun(candidate) || candidate.port === port),
        );
      return run && lastResultOf(run);
    } finally {
      store.close();
    }
  };
}
