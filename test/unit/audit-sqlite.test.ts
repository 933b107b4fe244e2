/**
 * A SQLite module that does not load (built for another Node.js, never built, missing) becomes
 * AUDIT_UNAVAILABLE with the command that fixes it; every other error keeps its own handling.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditError } from '../../src/audit/index.js';
import { nativeLoadProblem, REBUILD_COMMAND, unavailableOr } from '../../src/audit/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'posbridge-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What Node 22 says loading a better-sqlite3 built under Node 20 (seen on this machine). */
function abiMismatch(): Error {
  const error = new Error(
    "The module '/usr/lib/node_modules/posbridge/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\n" +
      'was compiled against a different Node.js version using\n' +
      'NODE_MODULE_VERSION 115. This version of Node.js requires\n' +
      'NODE_MODULE_VERSION 127. Please try re-compiling or re-installing\n' +
      'the module (for instance, using `npm rebuild` or `npm install`).',
  );
  return Object.assign(error, { code: 'ERR_DLOPEN_FAILED' });
}

/** A real dlopen failure: a file that is no shared object. */
function realDlopenFailure(): unknown {
  const junk = join(dir, 'junk.node');
  writeFileSync(junk, 'not an ELF file');
  try {
    process.dlopen({ exports: {} }, junk);
  } catch (error) {
    return error;
  }
  throw new Error('dlopen of a text file succeeded');
}

describe('the SQLite module that does not load', () => {
  it('built for another Node.js: names both module versions and the Node.js running', () => {
    const problem = nativeLoadProblem(abiMismatch(), 'v22.23.3');
    expect(problem).toBe(
      'its SQLite module (better-sqlite3) was built for another Node.js (module version 115); Node.js v22.23.3 needs module version 127',
    );
  });

  it('a real dlopen failure, a module never built, a module missing: each named', () => {
    expect(nativeLoadProblem(realDlopenFailure(), 'v20.20.2')).toMatch(
      /^its SQLite module \(better-sqlite3\) does not load on Node\.js v20\.20\.2: .*junk\.node/,
    );
    expect(
      nativeLoadProblem(
        new Error('Could not locate the bindings file. Tried:\n → /x/build/better_sqlite3.node'),
        'v24.0.0',
      ),
    ).toMatch(/was never built/);
    const missing = Object.assign(new Error("Cannot find module 'better-sqlite3'"), {
      code: 'MODULE_NOT_FOUND',
    });
    expect(nativeLoadProblem(missing, 'v24.0.0')).toMatch(/is not installed/);
  });

  it('becomes AUDIT_UNAVAILABLE whose hint is the rebuild command, without a stack in its JSON', () => {
    const error = unavailableOr(abiMismatch(), 'v22.23.3');
    expect(error).toBeInstanceOf(AuditError);
    const audit = error as AuditError;
    expect(audit.code).toBe('AUDIT_UNAVAILABLE');
    expect(audit.hint).toContain(`\`${REBUILD_COMMAND}\``);
    expect(REBUILD_COMMAND).toBe('npm rebuild -g better-sqlite3');
    expect(JSON.stringify(audit)).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('leaves SQLite errors about a file and programming errors alone', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(unavailableOr(busy)).toBe(busy);
    const type = new TypeError('Expected the "timeout" option to be a positive integer');
    expect(unavailableOr(type)).toBe(type);
    const otherModule = Object.assign(new Error("Cannot find module 'yaml'"), { code: 'MODULE_NOT_FOUND' });
    expect(unavailableOr(otherModule)).toBe(otherModule);
  });
});
