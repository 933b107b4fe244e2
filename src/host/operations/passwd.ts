/** `passwd`: a new password for the admin or an operator, on a provisioned terminal. */
import { z } from 'zod';
import { OPERATOR_ID, PASSWORD_PROBLEM_TEXT } from '../../protocol/index.js';
import { port, secret } from './fields.js';
import { defineOperation } from './operation.js';
import { terminalIdentity } from './results.js';

export const passwd = defineOperation({
  name: 'passwd',
  summary: 'set a new password for the admin or an operator',
  request: z
    .object({
      port,
      /** Default `admin`. */
      user: z
        .string()
        .refine((u) => u === 'admin' || OPERATOR_ID.test(u), 'must be admin or two digits 01-99')
        .optional(),
      adminPassword: secret(),
      newPassword: secret('new-password'),
    })
    .strict()
    .superRefine((body, ctx) => {
      if ((body.user ?? 'admin') === 'admin' && body.newPassword.equals(body.adminPassword))
        ctx.addIssue({
          code: 'custom',
          path: ['newPassword'],
          message: PASSWORD_PROBLEM_TEXT['same-as-old'],
        });
    }),
  result: z.object({
    kind: z.literal('passwd'),
    port: z.string(),
    sn: z.string(),
    terminal: terminalIdentity,
    user: z.string(),
  }),
  events: {},
});
