/**
 * Opens an audit trail with its witness (audit-target.ts decides which pair): its own module, so
 * the store's code (SQLite, the hash chain) loads only for a process that records.
 */
// The modules themselves, not the index: the CSV writer of `history` is not needed here.
import { isAuditError } from '../audit/errors.js';
import { AuditStore, type HeadWitness } from '../audit/store.js';
import { AuditWitness } from '../audit/witness.js';
import { PosbridgeError } from '../host/errors.js';
import type { AuditTarget } from './audit-target.js';

export interface OpenedAudit {
  store: AuditStore;
  witness: AuditWitness | undefined;
  close(): void;
}

/**
 * Opens the trail with its witness. A witness that cannot be opened is a usage error (exit 2),
 * raised before any terminal is touched; one that fails later goes to `warn`, and the run goes on.
 * `follower` is told each new head too (the daemon's MQTT forwarder, src/daemon/mqtt/bridge.ts).
 */
export function openAudit(
  target: AuditTarget,
  warn: (message: string) => void,
  follower?: HeadWitness,
  onAppend?: (seconds: number) => void,
): OpenedAudit {
  let witness: AuditWitness | undefined;
  if (target.witness !== undefined) {
    try {
      witness = AuditWitness.open(target.witness, { onError: (error) => warn(error.message) });
    } catch (error) {
      if (!isAuditError(error)) throw error;
      throw new PosbridgeError('USAGE', error.message, { hint: error.hint, details: error.details });
    }
  }
  try {
    const file = witness;
    const heads: HeadWitness | undefined =
      file && follower
        ? {
            record: (anchor) => {
              file.record(anchor);
              follower.record(anchor);
            },
          }
        : (file ?? follower);
    const store = AuditStore.open(target.file, {
      ...(heads && { witness: heads }),
      ...(onAppend && { onAppend }),
    });
    return {
      store,
      witness,
      close: () => {
        store.close();
        witness?.close();
      },
    };
  } catch (error) {
    witness?.close();
    throw error;
  }
}
