/**
 * The audit trail around any Engine: every provision, diag, passwd and operator run and each of
 * its steps is written as it happens (one committed transaction each), whether the engine runs
 * in this process or in the daemon. Only what reports already hold goes in: no secret.
 *
 * One wrapper for every operation of the table (src/host/operations): PLANS says, per operation,
 * whether it is recorded, what its run record holds and how its result reads as an outcome; the
 * rest is the same for all: `step` events become steps, `identified` and a result's `terminal`
 * name the terminal, a result's `diagnostics` are kept, a failure closes the run with its error.
 *
 * A provisioning's report comes back with `auditHead`, the anchor of the row that closed the run
 * (anchor.ts), also when the run stopped early; a provisioning that could not start (no report:
 * the port did not open) throws, and its error carries the anchor in its details instead, so every
 * outcome can be checked against the trail later.
 */
import type { CallOptions, Engine } from '../host/engine.js';
import { PosbridgeError } from '../host/errors.js';
import type { HandlersOf, OperationName, RequestOf, ResultOf } from '../host/operations/index.js';
import type { StepRecord, TerminalIdentity } from '../host/workflow/report.js';
import type { DiagOutcome } from '../host/workflow/terminal-ops.js';
import { formatAnchor } from './anchor.js';
import type { AuditStore } from './store.js';
import type { AuditRunKind, FinishRunInput, StartRunInput } from './types.js';

export interface AuditContext {
  /** Who runs diag/passwd/operator (provision names its own technician and station). */
  technician: string;
  station: string;
  now(): Date;
}

interface AuditPlan<N extends OperationName> {
  /** The run record's start (its kind is the operation's name). */
  start(request: RequestOf<N>, context: AuditContext): Omit<StartRunInput, 'kind'>;
  /** How the run ended, read from its result. */
  finish(result: ResultOf<N>): FinishRunInput;
  /** Its `step` and `identified` events are recorded as they happen. */
  steps?: true;
  /** The anchor of the closing record goes back: in the result (`auditHead`), or in an error's details. */
  anchored?: true;
}

/** Per operation: how it is recorded (its name is a kind of run), or `false` for one that only reads. */
const PLANS: { [N in OperationName]: N extends AuditRunKind ? AuditPlan<N> : false } = {
  info: false,
  provision: {
    start: ({ request }) => ({
      port: request.port,
      technician: request.technician,
      station: request.station,
      merchant: request.merchant,
      terminalNumber: request.terminal,
      details: { dryRun: request.dryRun === true },
    }),
    finish: (report) => ({
      outcome: report.outcome,
      ...(report.error && { error: recordedError(report.error) }),
      ...(report.credentialsFile && { details: { credentialsFile: report.credentialsFile } }),
    }),
    steps: true,
    anchored: true,
  },
  diag: {
    start: (request, who) => run(request.port, who, { checks: request.checks ?? 'all' }),
    finish: (report) => ({ outcome: report.diagnostics.fail > 0 ? 'failed' : 'ok' }),
  },
  passwd: {
    start: (request, who) => run(request.port, who, { user: request.user ?? 'admin' }),
    finish: () => ({ outcome: 'ok' }),
  },
  operator: {
    start: ({ port, operation: op }, who) =>
      run(port, who, op.action === 'list' ? { action: 'list' } : { action: op.action, id: op.id }),
    finish: () => ({ outcome: 'ok' }),
  },
};

/** A run by whoever this engine records as running things. */
function run(port: string, who: AuditContext, details: Record<string, string | string[]>) {
  return { port, technician: who.technician, station: who.station, details };
}

/** What any result may hold that the trail keeps. */
interface Recordable {
  terminal?: TerminalIdentity | undefined;
  diagnostics?: DiagOutcome | undefined;
  auditHead?: string | undefined;
}

type AnyMethod = (request: unknown, options?: CallOptions<OperationName>) => Promise<unknown>;

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the methods are installed below, one per operation of PLANS.
export class AuditedEngine {
  /**
   * `trail`: the store, or how to open it on the first record (info writes none, and loads no
   * store: src/cli/audit-target.ts).
   */
  constructor(
    private readonly inner: Engine,
    private readonly trail: AuditStore | (() => AuditStore | Promise<AuditStore>),
    private readonly context: AuditContext,
  ) {}

  async call<N extends OperationName>(
    name: N,
    request: RequestOf<N>,
    options: CallOptions<N> = {},
  ): Promise<ResultOf<N>> {
    const inner = (options: CallOptions<N>) =>
      (this.inner[name] as AnyMethod).call(
        this.inner,
        request,
        options as CallOptions<OperationName>,
      ) as Promise<ResultOf<N>>;
    const plan = PLANS[name] as AuditPlan<N> | false;
    if (!plan) return inner(options);
    // Opened (if it was not) before the run's first byte: a trail that does not open stops it.
    const store = typeof this.trail === 'function' ? await this.trail() : this.trail;
    const runId = store.startRun({ kind: name as AuditRunKind, ...plan.start(request, this.context) });
    let identified = false;
    const on = { ...options.on } as Record<string, ((data: never) => unknown) | undefined>;
    const given = options.on as Record<string, ((data: unknown) => unknown) | undefined> | undefined;
    // Events the trail records as they happen, before the caller hears of them.
    if (plan.steps) {
      on.step = (step: StepRecord) => {
        store.recordStep(runId, step);
        given?.step?.(step);
      };
      on.identified = (terminal: TerminalIdentity) => {
        store.recordTerminal(runId, terminal);
        identified = true;
        given?.identified?.(terminal);
      };
    }
    const finish = (result: ResultOf<N>) => {
      const recordable = result as Recordable;
      if (recordable.terminal && !identified) store.recordTerminal(runId, recordable.terminal);
      if (recordable.diagnostics) store.recordDiagnostics(runId, recordable.diagnostics.results);
      const head = store.finishRun(runId, plan.finish(result));
      if (plan.anchored) recordable.auditHead = formatAnchor(head);
    };
    try {
      const result = await inner({ ...options, on: on as HandlersOf<N> });
      finish(result);
      return result;
    } catch (error) {
      const head = failRun(store, runId, error);
      if (plan.anchored && error instanceof PosbridgeError) error.details.auditHead = formatAnchor(head);
      throw error;
    }
  }
}

function failRun(store: AuditStore, runId: string, error: unknown) {
  const known = error instanceof PosbridgeError ? error : undefined;
  return store.finishRun(runId, {
    outcome: 'failed',
    error: recordedError(known ?? { code: 'INTERNAL', message: 'internal error' }),
  });
}

// One method per operation of the table, each recording through `call`.
for (const name of Object.keys(PLANS) as OperationName[]) {
  Object.defineProperty(AuditedEngine.prototype, name, {
    value(this: AuditedEngine, request: never, options?: CallOptions<typeof name>) {
      return this.call(name, request, options);
    },
    writable: true,
    configurable: true,
  });
}

export interface AuditedEngine extends Engine {}

/** What the trail keeps of an error: its code, message and hint (never its details). */
function recordedError(error: { code: string; message: string; hint?: string | undefined }) {
  return { code: error.code, message: error.message, ...(error.hint && { hint: error.hint }) };
}
