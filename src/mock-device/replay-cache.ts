/**
 * At-most-once execution (TSP/1, IDs and at-most-once): the last REPLAY_CACHE_SIZE replies of one
 * connection, by request ID, first in first out. A retransmission (same ID, byte-identical line)
 * gets the stored lines again instead of running twice; the same ID with another line is a new
 * request whose reply replaces the entry.
 */
import { REPLAY_CACHE_SIZE } from '../protocol/index.js';

interface Entry {
  raw: string;
  lines: readonly string[];
}

export class ReplayCache {
  // A Map iterates in insertion order: the first key is the oldest entry.
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = REPLAY_CACHE_SIZE) {}

  /** The stored reply lines when `raw` is a retransmission of the request stored under `id`. */
  lookup(id: string, raw: string): readonly string[] | undefined {
    const entry = this.entries.get(id);
    return entry && entry.raw === raw ? entry.lines : undefined;
  }

  store(id: string, raw: string, lines: readonly string[]): void {
    this.entries.delete(id);
    this.entries.set(id, { raw, lines: [...lines] });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
