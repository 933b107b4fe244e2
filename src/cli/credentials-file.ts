/**
 * Generated operator passwords go to a file only its owner can read (mode 0600), appended one
 * line per password, written before the password is sent so a lost reply never loses it.
 */
import { appendFile, chmod, open } from 'node:fs/promises';
import type { Secret } from '../host/secret.js';

export function credentialsRecorder(path: string, sn: () => string | undefined, now: () => Date) {
  return async (operatorId: string, password: Secret): Promise<void> => {
    const handle = await open(path, 'a', 0o600);
    await handle.close();
    await chmod(path, 0o600); // an existing file keeps its mode on open: tighten it
    await appendFile(
      path,
      `${now().toISOString()} sn=${sn() ?? '?'} operator=${operatorId} password=${password.reveal()}\n`,
    );
  };
}
