/** `operator`: list, add, change or delete the terminal's operators, logged in as admin. */
import { z } from 'zod';
import { loginForAdminCommand } from '../workflow/admin-login.js';
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
  port: (request) => request.port,
  async run({ port, adminPassword, operation: op }, { terminal: ops }) {
    const { sn, model, fw } = await ops.hello();
    const terminal = { model, sn, fw };
    await loginForAdminCommand(ops, adminPassword);
    try {
      if (op.action === 'add')
        await ops.userAdd({ id: op.id, name: op.name, perms: op.perms, password: op.password });
      else if (op.action === 'set') {
        await ops.userSet({
          id: op.id,
          ...(op.name !== undefined && { name: op.name }),
          ...(op.perms && { perms: op.perms }),
        });
      } else if (op.action === 'del') await ops.userDel(op.id);
      const operators = await ops.userList();
      return {
        kind: 'operator' as const,
        port,
        terminal,
        sn,
        action: op.action,
        ...(op.action !== 'list' && { id: op.id }),
        operators,
      };
    } finally {
      await ops.logout().catch(() => undefined);
    }
  },
});
