/**
 * The engine of a process whose audit trail cannot be opened because the SQLite module does not
 * load (AUDIT_UNAVAILABLE, sqlite.ts): what changes a terminal (provision, passwd, operator) is
 * refused before a byte is sent, since a change must never go unrecorded; what only reads it
 * runs. `info` records nothing anyway; `diag` changes nothing on the terminal, so it runs and
 * says, once per run, that this run is not in the trail.
 */
import type { DiagReport, Engine, InfoReport, OperatorReport, PasswdReport } from '../host/engine.js';
import type { ProvisionReport } from '../host/workflow/report.js';
import type { AuditError } from './errors.js';
import { REBUILD_COMMAND } from './sqlite.js';

export class UnrecordedEngine implements Engine {
  constructor(
    private readonly inner: Engine,
    /** Why there is no trail: the AUDIT_UNAVAILABLE error, with its hint. */
    readonly reason: AuditError,
    private readonly warn: (message: string) => void,
  ) {}

  info(...args: Parameters<Engine['info']>): Promise<InfoReport> {
    return this.inner.info(...args);
  }

  diag(...args: Parameters<Engine['diag']>): Promise<DiagReport> {
    this.warn(`${this.reason.message}; this diag run goes unrecorded (to fix: ${REBUILD_COMMAND})`);
    return this.inner.diag(...args);
  }

  provision(): Promise<ProvisionReport> {
    return Promise.reject(this.reason);
  }

  passwd(): Promise<PasswdReport> {
    return Promise.reject(this.reason);
  }

  operator(): Promise<OperatorReport> {
    return Promise.reject(this.reason);
  }
}
