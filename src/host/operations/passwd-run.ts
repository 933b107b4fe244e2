/** How `passwd` runs (passwd.ts: its contract): refused on a factory-fresh terminal, else log in and PASSWD. */
import { PosbridgeError } from '../errors.js';
import { chooseAdminCredential, loginAdmin } from '../workflow/admin-login.js';
import type { RunOf } from './operation.js';
import type { passwd } from './passwd.js';

export const passwdRun: RunOf<typeof passwd> = {
  port: (request) => request.port,
  async run(request, { terminal: ops }) {
    const { port, adminPassword, newPassword } = request;
    const { sn, model, fw } = await ops.hello();
    const terminal = { model, sn, fw };
    const status = await ops.status();
    if (status.factoryPw.includes('admin')) {
      throw new PosbridgeError('NOT_PROVISIONED', 'the terminal still has its factory admin password', {
        hint: 'run posbridge provision, which replaces it safely',
      });
    }
    const credential = chooseAdminCredential(status, adminPassword);
    await loginAdmin(ops, credential);
    const user = request.user ?? 'admin';
    try {
      if (user === 'admin') await ops.passwd({ old: adminPassword, new: newPassword });
      else await ops.passwd({ user, new: newPassword });
    } finally {
      await ops.logout().catch(() => undefined);
    }
    return { kind: 'passwd' as const, port, sn, terminal, user };
  },
};
