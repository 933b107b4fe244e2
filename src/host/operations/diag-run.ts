/** How `diag` runs (diag.ts: its contract): HELLO, log in as admin, DIAG, log out. */
import { loginForAdminCommand } from '../workflow/admin-login.js';
import type { diag } from './diag.js';
import type { RunOf } from './operation.js';

export const diagRun: RunOf<typeof diag> = {
  port: (request) => request.port,
  async run({ port, adminPassword, checks }, { terminal: ops, on }) {
    const { sn, model, fw } = await ops.hello();
    const terminal = { model, sn, fw };
    await loginForAdminCommand(ops, adminPassword);
    try {
      const diagnostics = await ops.diag(checks, on.check);
      return { kind: 'diag' as const, port, sn, terminal, diagnostics };
    } finally {
      await ops.logout().catch(() => undefined);
    }
  },
};
