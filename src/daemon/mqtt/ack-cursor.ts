/**
 * The last audit record the broker acknowledged (PUBACK), kept next to the audit trail in
 * `<trail>.mqtt-acked`, so that a restarted daemon (after a crash, SIGKILL, a power cut) sends
 * the rest, in order, from there.
 *
 * Why a file of its own and not a table in the trail: the trail is evidence, append-only, and
 * its writes are the provisioning's; a cursor that moves with every PUBACK would take the
 * trail's write lock for something that is not a record. The file holds one JSON line:
 * `{"v":1,"broker":URL,"prefix":P,"seq":N,"hash":H}`, replaced whole (write, fsync, rename).
 *
 * It may lag (it is saved at most once a second, and at shutdown), never lead: it is written
 * only after the PUBACKs. A lag sends some records twice, which QoS 1 allows and a collector
 * ignores (it keeps one record per station and seq). On start the record it names must still be
 * in the trail with that hash; a new trail, another broker or another prefix start from record 1.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { type ChainAnchor, type ChainRecord, GENESIS_HASH } from '../../audit/index.js';

export interface CursorIdentity {
  broker: string;
  prefix: string;
}

export function cursorFileOf(auditFile: string): string {
  return `${auditFile}.mqtt-acked`;
}

export class AckCursorFile {
  private saved = -1;

  constructor(
    readonly file: string,
    private readonly identity: CursorIdentity,
    private readonly logger: Logger,
  ) {}

  /**
   * Where to start: the acknowledged record, if the trail still holds it with the same hash and
   * the broker and prefix are the same; else record 0 (send everything).
   */
  load(recordAt: (seq: number) => ChainRecord | undefined): ChainAnchor {
    const start = { seq: 0, hash: GENESIS_HASH };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn(
          { file: this.file, err: error },
          'cannot read the MQTT cursor: sending the trail from record 1',
        );
      return start;
    }
    let cursor: { broker?: unknown; prefix?: unknown; seq?: unknown; hash?: unknown };
    try {
      cursor = JSON.parse(text) as typeof cursor;
    } catch {
      this.logger.warn({ file: this.file }, 'the MQTT cursor is not JSON: sending the trail from record 1');
      return start;
    }
    if (cursor.broker !== this.identity.broker || cursor.prefix !== this.identity.prefix) {
      this.logger.info(
        { file: this.file, broker: this.identity.broker, prefix: this.identity.prefix },
        'another broker or prefix than last time: sending the trail from record 1',
      );
      return start;
    }
    const seq = cursor.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return start;
    if (seq === 0) return start;
    const record = recordAt(seq);
    if (record === undefined || record.hash !== cursor.hash) {
      this.logger.warn(
        { file: this.file, seq },
        'the audit trail no longer holds the record the broker acknowledged last (a new trail?): sending from record 1',
      );
      return start;
    }
    this.saved = seq;
    return { seq, hash: record.hash };
  }

  /** Replaces the file with `anchor` (unless it says that already). Errors are logged, not thrown. */
  save(anchor: ChainAnchor): void {
    if (anchor.seq === this.saved) return;
    const line = `${JSON.stringify({ v: 1, ...this.identity, seq: anchor.seq, hash: anchor.hash })}\n`;
    const temporary = `${this.file}.new`;
    try {
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.file);
      this.saved = anchor.seq;
    } catch (error) {
      // The cursor only saves work: without it, a restart sends records again (QoS 1 allows it).
      this.logger.warn({ file: this.file, err: error }, 'cannot save the MQTT cursor');
    }
  }
}
