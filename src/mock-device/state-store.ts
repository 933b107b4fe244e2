/**
 * Where the terminal's flash lives. In memory by default; with `--state FILE` a JSON file that is
 * loaded at start and rewritten atomically (temp file, fsync, rename, fsync of the directory)
 * after every change, so a mock killed at any instant restarts as the same terminal, with either
 * the old or the new state, never a torn one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MockConfigError } from './errors.js';
import { cloneState, type PersistentState } from './state.js';
import { parsePersistentState } from './state-schema.js';

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

export class FileStateStore implements StateStore {
  readonly description: string;

  constructor(readonly file: string) {
    this.description = file;
  }

  load(): PersistentState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.error(`cannot read it: ${(error as Error).message}`, error);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw this.error(`not valid JSON (${(error as Error).message})`, error);
    }
    const parsed = parsePersistentState(document);
    if (!parsed.ok) throw this.error(`field ${parsed.field}: ${parsed.problem}`);
    return parsed.state;
  }

  save(state: PersistentState): void {
    const dir = path.dirname(this.file);
    const temp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.tmp`);
    const fd = fs.openSync(temp, 'w', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, this.file);
    syncDirectory(dir);
  }

  private error(problem: string, cause?: unknown): MockConfigError {
    return new MockConfigError(`state file ${this.file}: ${problem}`, 'STATE_FILE', { cause });
  }
}

/** Makes the rename durable; some file systems refuse to open or fsync a directory, which is fine. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
