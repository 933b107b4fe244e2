/**
 * The daemon's event stream, numbered and remembered so a watcher that lost its connection
 * resumes where it left off (SSE `Last-Event-ID`, docs/api.md "Hub events").
 *
 * Every HubEvent gets an ID `EPOCH-SEQ`: SEQ counts from 1 for the life of this daemon, EPOCH
 * names that life, so an ID from before a restart is recognized as stale instead of being
 * mistaken for one of the new daemon's. The last `capacity` events are kept. A subscriber that
 * names an ID still in the window gets what followed it; one whose ID is stale or fell out of
 * the window gets a `resync` instead: the terminal list as it is now, and how to tell it
 * missed events.
 */
import type { HubEvent, TerminalHub, TerminalInfo } from '../../host/hub.js';

export const DEFAULT_JOURNAL_CAPACITY = 1000;

export interface JournalEntry {
  id: string;
  event: HubEvent;
}

/** Sent first to a subscriber whose Last-Event-ID cannot be honoured. */
export interface ResyncEvent {
  type: 'resync';
  /** Why: the ID is from another daemon life (`restarted`), too old (`expired`), or unreadable. */
  reason: 'restarted' | 'expired' | 'invalid';
  terminals: TerminalInfo[];
}

export interface JournalSubscription {
  /** Events after the caller's ID (empty for a new subscriber, or after a resync). */
  replay: JournalEntry[];
  resync?: ResyncEvent;
  unsubscribe(): void;
}

export class EventJournal {
  private readonly entries: JournalEntry[] = [];
  private readonly listeners = new Set<(entry: JournalEntry) => void>();
  private seq = 0;
  private readonly stopHub: () => void;
  readonly epoch: string;

  constructor(
    private readonly hub: TerminalHub,
    options: { capacity?: number; epoch?: string } = {},
  ) {
    this.capacity = options.capacity ?? DEFAULT_JOURNAL_CAPACITY;
    // Base 36 of the start time: short, and different for each life of the daemon.
    this.epoch = options.epoch ?? Date.now().toString(36);
    this.stopHub = hub.subscribe((event) => this.record(event));
  }

  private readonly capacity: number;

  /** The ID of the last event, or undefined before the first. */
  get lastId(): string | undefined {
    return this.entries.at(-1)?.id;
  }

  /**
   * Follows the stream. `lastEventId`: the last ID the caller saw (its Last-Event-ID header);
   * undefined for a new subscriber.
   */
  subscribe(listener: (entry: JournalEntry) => void, lastEventId?: string): JournalSubscription {
    this.listeners.add(listener);
    const unsubscribe = () => void this.listeners.delete(listener);
    if (lastEventId === undefined || lastEventId === '') return { replay: [], unsubscribe };
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    const resync = (reason: ResyncEvent['reason']): JournalSubscription => ({
      replay: [],
      resync: { type: 'resync', reason, terminals: this.hub.list() },
      unsubscribe,
    });
    if (!match) return resync('invalid');
    if (match[1] !== this.epoch) return resync('restarted');
    const seen = Number(match[2]);
    if (seen > this.seq) return resync('invalid');
    const oldest = this.seq - this.entries.length + 1;
    // Nothing was missed only if the first event after `seen` is still here.
    if (seen + 1 < oldest) return resync('expired');
    return { replay: this.entries.slice(seen + 1 - oldest), unsubscribe };
  }

  close(): void {
    this.stopHub();
    this.listeners.clear();
  }

  private record(event: HubEvent): void {
    const entry: JournalEntry = { id: `${this.epoch}-${++this.seq}`, event };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    for (const listener of [...this.listeners]) listener(entry);
  }
}
