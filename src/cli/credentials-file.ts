/**
 * Generated operator passwords go to a file only its owner can read (mode 0600), appended one
 * line per password, written before the password is sent so a lost reply never loses it. The
 * file is checked before the run (output-files.ts `prepareCredentialsFile`) and opened each time
 * without following a link.
 */
import type { Secret } from '../host/secret.js';
import { openForAppend } from './output-files.js';

export function credentialsRecorder(path: string, sn: () => string | undefined, now: () => Date) {
  return async (operatorId: string, password: Secret): Promise<void> => {
    const handle = await openForAppend(path, '--credentials-out', { secret: true });
    try {
      await handle.write(
        `${now().toISOString()} sn=${sn() ?? '?'} operator=${operatorId} password=${password.reveal()}\n`,
      );
    } finally {
      await handle.close();
    }
  };
}
