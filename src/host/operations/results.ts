/**
 * What operations answer, as zod schemas: the daemon's client validates every reply with them,
 * the API's OpenAPI document is generated from them.
 *
 * The terminal's own values (HELLO, STATUS, an operator, a DIAG check) are derived from the reply
 * shapes of the command table (docs/protocol.md §15), so a field added there is in the API at
 * once. The workflow's types (report.ts) are checked against these schemas at compile time.
 */
import { z } from 'zod';
import { COMMANDS, type ReplyShape, type ValueOf } from '../../protocol/index.js';
import { flag, int, list, noneOrList, type Props, text, utc } from '../../protocol/reply-shape.js';
import type {
  ProvisionReport,
  RunOutcome,
  StepName,
  StepOutcome,
  StepRecord,
  TerminalIdentity,
} from '../workflow/report.js';
import type {
  DiagCheckResult,
  DiagOutcome,
  HelloInfo,
  OperatorInfo,
  StatusInfo,
} from '../workflow/terminal-ops.js';

/** The JSON form of one kind of reply field (reply-shape.ts). */
function fieldSchema(kind: { decode: unknown; values?: readonly string[] }, key: string): z.ZodType {
  if (kind.values) return z.enum(kind.values as [string, ...string[]]);
  if (kind.decode === int.decode || kind.decode === utc.decode) return z.number().int();
  if (kind.decode === flag.decode) return z.boolean();
  if (kind.decode === list.decode || kind.decode === noneOrList.decode) return z.array(z.string());
  if (kind.decode === text.decode) return z.string();
  throw new TypeError(`no JSON form for the reply field ${key}`);
}

/** A reply line's typed value (what `decode` gives) as a schema: same properties, same kinds. */
export function shapeSchema<S extends ReplyShape<Props>>(shape: S): z.ZodType<ValueOf<S>> {
  const props: Record<string, z.ZodType> = {};
  for (const [name, kind] of Object.entries(shape.props) as Array<
    [string, { decode: unknown; presence?: string }]
  >) {
    const schema = fieldSchema(kind, name);
    props[name] = kind.presence === undefined ? schema : schema.optional();
  }
  return z.object(props) as unknown as z.ZodType<ValueOf<S>>;
}

export const helloInfo = shapeSchema(COMMANDS.HELLO.ok);
export const statusInfo = shapeSchema(COMMANDS.STATUS.ok);
export const operatorInfo = shapeSchema(COMMANDS['USER-LIST'].data);
export const diagCheckResult = shapeSchema(COMMANDS.DIAG.data);

export const diagOutcome = z.object({
  results: z.array(diagCheckResult),
  pass: z.number().int(),
  warn: z.number().int(),
  fail: z.number().int(),
});

export const terminalIdentity = z.object({ model: z.string(), sn: z.string(), fw: z.string() });

const STEP_NAMES = [
  'identify',
  'login',
  'admin-password',
  'bind',
  'clock',
  'settings',
  'operators',
  'factory-operator',
  'diagnostics',
  'verify',
  'logout',
  'resume',
] as const satisfies readonly StepName[];
const STEP_OUTCOMES = [
  'done',
  'already',
  'failed',
  'skipped',
  'planned',
] as const satisfies readonly StepOutcome[];
const RUN_OUTCOMES = [
  'provisioned',
  'already-provisioned',
  'planned',
  'quarantined',
  'failed',
] as const satisfies readonly RunOutcome[];

export const stepRecord = z.object({
  step: z.enum(STEP_NAMES),
  outcome: z.enum(STEP_OUTCOMES),
  detail: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

/** What stopped a run (RunStop): code, message, hint, then the error's details, kept as they are. */
export const runStop = z.looseObject({ code: z.string(), message: z.string(), hint: z.string().optional() });

export const provisionReport = z.object({
  kind: z.literal('provision'),
  outcome: z.enum(RUN_OUTCOMES),
  port: z.string(),
  technician: z.string(),
  station: z.string(),
  terminal: terminalIdentity.optional(),
  merchant: z.string(),
  terminalNumber: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  steps: z.array(stepRecord),
  diagnostics: diagOutcome.optional(),
  credentialsFile: z.string().optional(),
  error: runStop.optional(),
  auditHead: z.string().optional(),
});

// Compile-time: each schema gives exactly the type the workflow and the driver use.
/** Exactly the same type (optional properties included), not merely assignable both ways. */
export type Same<A, B> =
  (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
type Flat<T> = T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
export type Holds<T extends readonly true[]> = T;
export type ResultTypesAgree = Holds<
  [
    Same<z.output<typeof helloInfo>, HelloInfo>,
    Same<z.output<typeof statusInfo>, StatusInfo>,
    Same<z.output<typeof operatorInfo>, OperatorInfo>,
    Same<z.output<typeof diagCheckResult>, DiagCheckResult>,
    Same<z.output<typeof diagOutcome>, DiagOutcome>,
    Same<z.output<typeof terminalIdentity>, TerminalIdentity>,
    Same<z.output<typeof stepRecord>, StepRecord>,
    Same<z.output<typeof provisionReport>, ProvisionReport>,
  ]
>;
