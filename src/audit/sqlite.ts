/**
 * better-sqlite3, loaded when a trail is first opened rather than when posbridge starts.
 *
 * The problem it solves: better-sqlite3 is a native module compiled for one Node.js ABI
 * (NODE_MODULE_VERSION). After the technician switches Node versions (nvm, a distribution
 * upgrade), loading it fails with a dlopen error and a stack trace, and every command that
 * merely imported it failed too. Here the module is required on the first open, and a load
 * failure becomes AUDIT_UNAVAILABLE naming the command that fixes it, so the commands that never
 * touch the trail (info, ports, console, mock) keep working (docs/cli.md, "Audit trail").
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { AuditError } from './errors.js';

type DatabaseConstructor = typeof BetterSqlite3;
export type SqliteDatabase = BetterSqlite3.Database;
export type SqliteTransaction<F extends (...args: never[]) => unknown> = BetterSqlite3.Transaction<F>;

/**
 * What fixes a native module built for another Node.js, for an npm global install. Not `npm
 * rebuild -g posbridge`: npm 11 rebuilds only the named package, not the addon nested under it
 * (measured: it says "rebuilt" and the addon stays built for the old Node).
 */
export const REBUILD_COMMAND = 'npm rebuild -g better-sqlite3';

const require = createRequire(import.meta.url);
let loaded: DatabaseConstructor | undefined;

/**
 * better-sqlite3's Database, its native addon loaded and working, or AUDIT_UNAVAILABLE. The
 * addon loads inside the first construction (better-sqlite3 loads it on first use), so an
 * in-memory database is opened once to prove it: before any file is created or opened.
 */
export function loadSqlite(): DatabaseConstructor {
  if (loaded) return loaded;
  try {
    const Database = require('better-sqlite3') as DatabaseConstructor;
    new Database(':memory:').close();
    loaded = Database;
    return Database;
  } catch (error) {
    throw unavailableOr(error);
  }
}

/** Opens an SQLite database file (errors of the file itself are the caller's to explain). */
export function openSqlite(file: string, options: BetterSqlite3.Options): SqliteDatabase {
  const Database = loadSqlite();
  return new Database(file, options);
}

/** AUDIT_UNAVAILABLE when `error` says the native module cannot load; else `error` itself. */
export function unavailableOr(error: unknown, runtime: string = process.version): unknown {
  const problem = nativeLoadProblem(error, runtime);
  if (problem === undefined) return error;
  return new AuditError('AUDIT_UNAVAILABLE', `the audit trail cannot be used: ${problem}`, {
    hint: `run \`${REBUILD_COMMAND}\` with this Node.js (in a source checkout: \`npm rebuild better-sqlite3\`), then try again; meanwhile info, ports, scan, console and mock work (they do not use the audit trail), and so does diag, unrecorded`,
    details: { module: 'better-sqlite3', node: runtime },
    cause: error,
  });
}

/**
 * Why the native module did not load, in one sentence, or undefined when `error` is something
 * else (an SQLite error on a file, a bad option): those keep their own handling.
 */
export function nativeLoadProblem(error: unknown, runtime: string): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const versions = /NODE_MODULE_VERSION (\d+)\.[\s\S]*?requires\s+NODE_MODULE_VERSION (\d+)/.exec(message);
  if (versions)
    return `its SQLite module (better-sqlite3) was built for another Node.js (module version ${versions[1]}); Node.js ${runtime} needs module version ${versions[2]}`;
  if (/Could not locate the bindings file/.test(message))
    return 'its SQLite module (better-sqlite3) was never built (its install script did not run or failed)';
  if (code === 'MODULE_NOT_FOUND' && /better-sqlite3/.test(message))
    return 'its SQLite module (better-sqlite3) is not installed';
  if (code === 'ERR_DLOPEN_FAILED')
    return `its SQLite module (better-sqlite3) does not load on Node.js ${runtime}: ${firstLine(message)}`;
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
