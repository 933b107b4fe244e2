/**
 * Where the terminal's flash lives: in memory by default; with `--state FILE` the file store
 * (file-state-store.ts, with its schema: loaded only by `posbridge mock --state`).
 */
import { cloneState, type PersistentState } from './state.js';

export interface StateStore {
  /** The stored state, or undefined when none was ever saved. Throws MockConfigError when unreadable. */
  load(): PersistentState | undefined;
  /** Persist the state (synchronously: the reply to a change goes out after it is stored, like flash). */
  save(state: PersistentState): void;
  /** For logs: `memory` or the file path. */
  readonly description: string;
}

/** Keeps the last saved state in memory: a "restart" in a test can reuse the same store. */
export class MemoryStateStore implements StateStore {
  readonly description = 'memory';
  private saved: PersistentState | undefined;
  saves = 0;

  load(): PersistentState | undefined {
    return this.saved && cloneState(this.saved);
  }

  save(state: PersistentState): void {
    this.saved = cloneState(state);
    this.saves++;
  }
}
