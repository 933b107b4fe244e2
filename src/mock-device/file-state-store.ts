/**
 * The terminal's flash as a JSON file (`posbridge mock --state FILE`): loaded at start and
 * rewritten atomically (temp file, fsync, rename, fsync of the directory) after every change, so
 * a mock killed at any instant restarts as the same terminal, with either the old or the new
 * state, never a torn one. Its own module: the schema that checks the file (zod) loads only here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MockConfigError } from './errors.js';
import type { PersistentState } from './state.js';
import { parsePersistentState } from './state-schema.js';
import type { StateStore } from './state-store.js';

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
