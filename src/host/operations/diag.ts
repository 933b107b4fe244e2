/** `diag`: the terminal's self-diagnostics, all twelve checks or those named, logged in as admin. */
import { z } from 'zod';
import { diagChecks, port, secret } from './fields.js';
import { defineOperation } from './operation.js';
import { diagCheckResult, diagOutcome, terminalIdentity } from './results.js';

export const diag = defineOperation({
  name: 'diag',
  summary: "run the terminal's self-diagnostics (all checks, or those named)",
  request: z
    .object({
      port,
      /** Absent: the factory password, while the terminal still has it. */
      adminPassword: secret().optional(),
      checks: diagChecks.optional(),
    })
    .strict(),
  result: z.object({
    kind: z.literal('diag'),
    port: z.string(),
    sn: z.string(),
    terminal: terminalIdentity,
    diagnostics: diagOutcome,
  }),
  events: {
    check: { schema: diagCheckResult, summary: 'one check ended (in the order they run)' },
  },
});
