/**
 * The rows of GET /v1/status (bench-status.ts) as a schema: for the OpenAPI document and the
 * client, which validates the reply with it; checked against the types at compile time.
 */
import { z } from 'zod';
import { diagCheckResult, type Holds, type Same, stepRecord } from '../../host/operations/results.js';
import { CONDITIONS, type TerminalStatusRow } from './bench-status.js';
import { terminalInfo } from './hub-schemas.js';

export const portActivity = z.object({
  operation: z.string(),
  id: z.string().optional().meta({ description: "the operation's ID" }),
  since: z.string().meta({ description: 'ISO time it started' }),
  step: z
    .object({ step: stepRecord.shape.step, outcome: stepRecord.shape.outcome, detail: z.string() })
    .optional()
    .meta({ description: 'the last step reported' }),
  steps: z.number().int().meta({ description: 'steps finished so far' }),
});

export const lastResult = z.object({
  operation: z.string(),
  outcome: z.string(),
  at: z.string(),
  detail: z.string().optional().meta({ description: "the failing step's or the error's words" }),
  diagnostics: z.array(diagCheckResult).optional(),
});

export const terminalStatusRow = terminalInfo.extend({
  condition: z.enum(CONDITIONS).meta({ description: 'one word for the state, most urgent first' }),
  activity: portActivity.optional().meta({ description: 'what the port is busy with' }),
  lastResult: lastResult.optional().meta({ description: 'how the last operation here ended' }),
});

export const statusList = z.object({ terminals: z.array(terminalStatusRow) });

export type StatusSchemasAgree = Holds<[Same<z.output<typeof terminalStatusRow>, TerminalStatusRow>]>;
