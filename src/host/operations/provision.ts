/**
 * `provision`: the whole job on one terminal (src/host/workflow/provision.ts). Its request is the
 * workflow's, plus the first passwords of the profile's operators that are not generated: the
 * caller reads them (its environment and files are not the daemon's) and hands them over, or the
 * error reading one gave, raised where the workflow needs that password.
 */
import { z } from 'zod';
import { isTextWithin, MERCHANT_NUMBER, TERMINAL_NUMBER } from '../../protocol/index.js';
import type { Secret } from '../secret.js';
import { type OperatorSpec, type Profile, profileSchema } from '../workflow/profile.js';
import { carriedFailure } from './carried.js';
import { operatorId, port, secret, text } from './fields.js';
import { defineOperation } from './operation.js';
import { diagCheckResult, provisionReport, stepRecord, terminalIdentity } from './results.js';

const workflowRequest = z
  .object({
    port,
    merchant: text('15 digits').regex(MERCHANT_NUMBER, 'must be 15 digits'),
    terminal: text('8 digits').regex(TERMINAL_NUMBER, 'must be 8 digits'),
    name: text('1 to 40 bytes of UTF-8 text')
      .refine((n) => isTextWithin(n, 1, 40), 'must be 1 to 40 bytes of UTF-8 text')
      .optional(),
    /** The admin password the terminal must end up with (a dry run may leave it out). */
    adminPassword: secret('new-password').optional(),
    /** There is evidence the terminal already holds adminPassword (the audit trail says this tool set it). */
    adminPasswordKnown: z.boolean().optional(),
    profile: profileSchema.default(profileSchema.parse({})),
    technician: text().min(1, 'must not be empty'),
    station: text().min(1, 'must not be empty'),
    dryRun: z.boolean().optional(),
  })
  .strict();

/** What a caller gives for one operator's first password: the password, or why it has none. */
export type OperatorPassword = Secret | Error;

export const provision = defineOperation({
  name: 'provision',
  summary:
    'the whole job: log in safely, replace the factory password, bind the numbers, set clock, settings and operators, run the diagnostics; resumable',
  request: z
    .object({
      request: workflowRequest,
      /**
       * First passwords of the profile's operators whose source is not `generate`, by operator ID,
       * or the error reading one gave.
       */
      operatorPasswords: z.record(operatorId, z.union([secret(), carriedFailure])).optional(),
    })
    .strict(),
  result: provisionReport,
  events: {
    identified: {
      schema: terminalIdentity,
      summary: 'HELLO named the terminal (before any other step)',
    },
    step: { schema: stepRecord, summary: 'one step of the run ended (in order)' },
    check: {
      schema: diagCheckResult,
      summary: 'one diagnostic check ended, during the diagnostics step (in the order they run)',
    },
    generated: {
      schema: z.object({ id: operatorId, password: secret() }),
      summary:
        'a generated first password of an operator: keep it, then acknowledge; it is sent to the terminal only once acknowledged',
      acknowledged: {
        optIn: 'recordGenerated',
        what: (data: { id: string }) => `the password of operator ${data.id}`,
      },
    },
  },
});

/**
 * The `operatorPasswords` of a request: each operator of the profile whose source is not
 * `generate`, read with `read`; a read that fails gives its error, raised when the run needs it.
 */
export async function readOperatorPasswords(
  profile: Profile,
  read: (id: string, source: Exclude<OperatorSpec['password'], 'generate'>) => Promise<Secret>,
): Promise<Record<string, OperatorPassword>> {
  const out: Record<string, OperatorPassword> = {};
  for (const operator of profile.operators) {
    const source = operator.password;
    if (source === 'generate') continue;
    try {
      out[operator.id] = await read(operator.id, source);
    } catch (error) {
      out[operator.id] = error instanceof Error ? error : new Error(String(error));
    }
  }
  return out;
}
