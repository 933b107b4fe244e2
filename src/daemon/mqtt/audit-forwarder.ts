/**
 * Every audit record to `<prefix>/audit`, QoS 1, in order, nothing lost (docs/fleet.md,
 * "Nothing lost"). The records are read from the audit store itself, never taken from the
 * operations as they run: a provisioning writes its records and goes on; whether the broker is
 * there, slow or refusing does not reach it.
 *
 * - `acked`: the last record of an unbroken run of PUBACKs from record 1 (persisted,
 *   ack-cursor.ts). `sent`: the last record handed to this connection.
 * - On each new connection, sending starts again right after `acked`, so what was in flight when
 *   the link dropped goes again, in order, before anything newer.
 * - At most `window` records await their PUBACK at once (the broker's receive maximum bounds it
 *   too); the store is read again when half of them are back.
 * - A collector that misses records asks for them (`<prefix>/audit/replay`, `{from}`): sending
 *   starts again from there; the records come twice for whoever already had them, which QoS 1
 *   allows and a collector ignores.
 * - A record the broker refuses (a PUBACK with an error code: its access rules) is never
 *   skipped: the link is closed and the record goes again after the link's usual wait.
 */
import type { Logger } from 'pino';
import type { ChainAnchor, ChainRecord } from '../../audit/index.js';
import type { TimerHandle, Timers } from '../../protocol/index.js';
import type { AckCursorFile } from './ack-cursor.js';
import type { PublishOptions } from './link.js';
import type { AuditPayload } from './payloads.js';

export interface AuditFeed {
  recordsAfter(seq: number, limit: number): ChainRecord[];
}

export interface ForwarderLink {
  readonly connected: boolean;
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
  drop(reason: string): void;
}

export interface AuditForwarderOptions {
  feed: AuditFeed;
  link: ForwarderLink;
  topic: string;
  station: string;
  cursor: Pick<AckCursorFile, 'load' | 'save'>;
  timers: Timers;
  logger: Logger;
  /** Records awaiting a PUBACK at once (default 64). */
  window?: number;
  /** The cursor is saved at most this often (default 1000 ms), and at close. */
  saveEveryMs?: number;
  now?: () => number;
}

export function auditMessage(station: string, record: ChainRecord): AuditPayload {
  return { v: 1, station, ...record };
}

export class AuditForwarder {
  private acked: ChainAnchor;
  private sent: number;
  private readonly inflight = new Set<number>();
  /** PUBACKs that came before an earlier record's (kept until the run from `acked` joins them). */
  private readonly ackedAhead = new Map<number, string>();
  private connection = 0;
  private saveTimer: TimerHandle | undefined;
  private catchUp: { from: number; at: number } | undefined;
  private readonly window: number;

  constructor(private readonly options: AuditForwarderOptions) {
    this.window = options.window ?? 64;
    this.acked = options.cursor.load((seq) => options.feed.recordsAfter(seq - 1, 1)[0]);
    this.sent = this.acked.seq;
  }

  /** The last record of the unbroken run the broker acknowledged. */
  get acknowledged(): ChainAnchor {
    return this.acked;
  }

  /** A new connection: start again right after the last acknowledged record. */
  up(): void {
    this.connection += 1;
    this.inflight.clear();
    this.ackedAhead.clear();
    this.sent = this.acked.seq;
    this.catchUp = { from: this.acked.seq, at: this.now() };
    this.pump();
  }

  down(): void {
    this.connection += 1;
    this.inflight.clear();
  }

  /** New records may be in the store. */
  poke(): void {
    if (this.inflight.size <= this.window / 2) this.pump();
  }

  /** A collector asks for the records from `from` again. */
  replay(from: number): void {
    if (!Number.isInteger(from) || from < 1 || from > this.sent) return;
    this.options.logger.info({ from, sent: this.sent }, 'a collector asks for audit records again');
    this.sent = from - 1;
    this.pump();
  }

  /** Saves the cursor now (at shutdown). */
  flush(): void {
    if (this.saveTimer !== undefined) this.options.timers.clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.options.cursor.save(this.acked);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private pump(): void {
    const { link, feed } = this.options;
    while (link.connected && this.inflight.size < this.window) {
      const records = feed.recordsAfter(this.sent, this.window - this.inflight.size);
      if (records.length === 0) break;
      for (const record of records) this.send(record);
    }
    this.reportCaughtUp();
  }

  private send(record: ChainRecord): void {
    const { link, topic, station } = this.options;
    const connection = this.connection;
    this.sent = record.seq;
    this.inflight.add(record.seq);
    link.publish(topic, JSON.stringify(auditMessage(station, record)), { qos: 1, retain: false }).then(
      () => this.acknowledge(record, connection),
      (error: unknown) => this.refused(record, error, connection),
    );
  }

  private acknowledge(record: ChainRecord, connection: number): void {
    if (connection === this.connection) this.inflight.delete(record.seq);
    if (record.seq > this.acked.seq) this.ackedAhead.set(record.seq, record.hash);
    for (let next = this.ackedAhead.get(this.acked.seq + 1); next !== undefined; ) {
      this.ackedAhead.delete(this.acked.seq + 1);
      this.acked = { seq: this.acked.seq + 1, hash: next };
      next = this.ackedAhead.get(this.acked.seq + 1);
    }
    this.scheduleSave();
    if (connection === this.connection) this.poke();
  }

  private refused(record: ChainRecord, error: unknown, connection: number): void {
    if (connection !== this.connection) return;
    const code = (error as { code?: unknown }).code;
    // A PUBACK with an error code: the broker got the record and will not take it.
    if (typeof code === 'number' && code >= 0x80) {
      this.options.logger.error(
        { seq: record.seq, reasonCode: code, topic: this.options.topic },
        `the MQTT broker refused audit record ${record.seq} (${(error as Error).message}): check its access rules for ${this.options.topic}; sending it again after a wait`,
      );
      this.options.link.drop(`audit record ${record.seq} refused`);
    }
    // Otherwise the link went down: up() sends it again.
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = this.options.timers.setTimeout(() => {
      this.saveTimer = undefined;
      this.options.cursor.save(this.acked);
    }, this.options.saveEveryMs ?? 1000);
  }

  /** Once per connection, when everything in the store is acknowledged: how much, how fast. */
  private reportCaughtUp(): void {
    if (!this.catchUp || this.inflight.size > 0 || this.sent !== this.acked.seq) return;
    if (this.options.feed.recordsAfter(this.acked.seq, 1).length > 0) return;
    const { from, at } = this.catchUp;
    this.catchUp = undefined;
    this.options.logger.info(
      { acked: this.acked.seq, records: this.acked.seq - from, ms: this.now() - at },
      'audit records acknowledged by the MQTT broker up to the head of the trail',
    );
  }
}
