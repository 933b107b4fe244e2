/**
 * Which audit trail a process writes, and which witness file goes with it (docs/daemon.md, "The
 * audit trail and its witness"). A witness belongs to one trail: heads of one trail checked
 * against another would cry tampering for nothing, so the pairing is decided in this one place,
 * for the process that writes and for `history --verify` that reads.
 *
 * - The trail: POSBRIDGE_AUDIT, else the daemon config's `audit.file` (for the daemon), else the
 *   user's data directory.
 * - Its witness: POSBRIDGE_AUDIT_WITNESS, else the daemon config's `audit.witness`, but only
 *   while the trail is the config's own (POSBRIDGE_AUDIT pointing elsewhere leaves it out).
 */
import { resolve } from 'node:path';
import { defaultAuditPath } from '../audit/paths.js';
import type { AuditStore } from '../audit/store.js';
import type { AuditWitness } from '../audit/witness.js';
import type { DaemonConfig } from '../daemon/config/index.js';
import type { OpenedAudit } from './audit-open.js';

export interface AuditTarget {
  file: string;
  witness?: string;
}

export const WITNESS_ENV = 'POSBRIDGE_AUDIT_WITNESS';

/** The trail and witness of the in-process engine (no config), or of the daemon (its config). */
export function auditTarget(
  env: NodeJS.ProcessEnv,
  config?: Pick<DaemonConfig, 'audit' | 'auditWitness'>,
): AuditTarget {
  const own = config?.audit || defaultAuditPath(env);
  const file = env.POSBRIDGE_AUDIT || own;
  const witness = env[WITNESS_ENV] || (sameFile(file, own) ? config?.auditWitness : undefined);
  return { file, ...(witness && { witness }) };
}

export function sameFile(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

export interface LazyAudit {
  /** The trail's file, resolved as the store resolves it. */
  file: string;
  /** The store, opened (with its witness) on the first call; a failure to open is thrown each time. */
  store(): Promise<AuditStore>;
  /** The witness, once the store is open. */
  witness(): AuditWitness | undefined;
  close(): void;
}

/**
 * The trail as a process that may never record needs it: nothing is opened or created until the
 * first record (info and a failed usage check leave no file behind); `openAudit` then, before the
 * first byte of that run is sent. Nor is the store's code loaded before (SQLite, the hash chain,
 * audit-open.ts): info records nothing and starts without it.
 */
export function lazyAudit(target: AuditTarget, warn: (message: string) => void): LazyAudit {
  let opened: OpenedAudit | undefined;
  return {
    file: resolve(target.file),
    store: async () => {
      const { openAudit } = await import('./audit-open.js');
      opened ??= openAudit(target, warn);
      return opened.store;
    },
    witness: () => opened?.witness,
    close: () => opened?.close(),
  };
}
