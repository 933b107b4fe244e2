/**
 * How each operation runs, loaded when it is first called (NAME-run.ts): the engine's way to the
 * operation table without zod. `posbridge info` loads info-run.ts, not the schemas of every
 * request and result (index.ts) nor the provisioning workflow.
 */
import type { OperationName, Operations } from './index.js';
import type { OperationRun } from './operation.js';

/** Every operation, in the table's order (index.ts checks that the two agree). */
export const OPERATION_NAMES = [
  'info',
  'provision',
  'diag',
  'passwd',
  'operator',
] as const satisfies readonly OperationName[];

// Each entry is typed by its contract: a run that does not fit its schemas does not compile.
const RUNS: { [N in OperationName]: () => Promise<Pick<Operations[N], keyof OperationRun>> } = {
  info: async () => (await import('./info-run.js')).infoRun,
  provision: async () => (await import('./provision-run.js')).provisionRun,
  diag: async () => (await import('./diag-run.js')).diagRun,
  passwd: async () => (await import('./passwd-run.js')).passwdRun,
  operator: async () => (await import('./operator-run.js')).operatorRun,
};

/** A run whatever its operation: for the code written once for all of them (the engine). */
export type AnyRun = OperationRun;

/** The run of operation `name` (one cast, as operationOf in index.ts). */
export function runOf(name: OperationName): Promise<AnyRun> {
  return RUNS[name]() as unknown as Promise<AnyRun>;
}
