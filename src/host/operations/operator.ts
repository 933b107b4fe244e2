/** `operator`: list, add, change or delete the terminal's operators, logged in as admin. */
import { z } from 'zod';
import { operatorId, operatorName, perms, port, secret } from './fields.js';
import { defineOperation } from './operation.js';
import { operatorInfo, terminalIdentity } from './results.js';

const action = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('list') }).strict(),
    z
      .object({
        action: z.literal('add'),
        id: operatorId,
        name: operatorName,
        perms,
        password: secret('new-password'),
      })
      .strict(),
    z
      .object({
        action: z.literal('set'),
        id: operatorId,
        name: operatorName.optional(),
        perms: perms.optional(),
      })
      .strict()
      .refine((op) => op.name !== undefined || op.perms !== undefined, 'give name, perms or both'),
    z.object({ action: z.literal('del'), id: operatorId }).strict(),
  ],
  { error: 'action must be list, add, set or del' },
);

export type OperatorAction = z.output<typeof action>;

export const operator = defineOperation({
  name: 'operator',
  summary: "list, add, change or delete the terminal's operators",
  request: z
    .object({
      port,
      /** Absent: the factory password, while the terminal still has it. */
      adminPassword: secret().optional(),
      operation: action,
    })
    .strict(),
  result: z.object({
    kind: z.literal('operator'),
    port: z.string(),
    terminal: terminalIdentity,
    sn: z.string(),
    action: z.enum(['list', 'add', 'set', 'del']),
    id: z.string().optional(),
    operators: z.array(operatorInfo),
  }),
  events: {},
});
