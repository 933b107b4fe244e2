/** How `operator` runs (operator.ts: its contract): HELLO, log in as admin, the change, USER-LIST. */
import { loginForAdminCommand } from '../workflow/admin-login.js';
import type { RunOf } from './operation.js';
import type { operator } from './operator.js';

export const operatorRun: RunOf<typeof operator> = {
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
};
