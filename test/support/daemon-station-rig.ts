/**
 * The sandbox of the daemon + station end-to-end test: a temporary directory holding the daemon
 * config (a wildcard of pty links in a watched `ptys/` directory, a short heartbeat), the
 * manifest, the audit trail and the socket, and an environment that points every posbridge path
 * (XDG directories, audit trail, socket) into it, never into the real home. Also the auditor's
 * nightmare: one audit row edited behind the store's back.
 */
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cleanEnv, MERCHANT } from './cli-inproc.js';

export interface ManifestRow {
  sn: string;
  terminal: string;
  name?: string;
}

export interface DaemonStationSandbox {
  dir: string;
  /** The watched directory where the mock terminals' pty links appear. */
  ptys: string;
  config: string;
  manifest: string;
  junit: string;
  audit: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  /** `<dir>/ptys/<name>` */
  link(name: string): string;
}

export function createDaemonStationSandbox(rows: readonly ManifestRow[]): DaemonStationSandbox {
  // realpath: the daemon matches device paths as given, and /tmp may be a symlink elsewhere.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pb-dst-')));
  const ptys = join(dir, 'ptys');
  for (const sub of ['ptys', 'run', 'data', 'config', 'state']) mkdirSync(join(dir, sub), { mode: 0o700 });
  const config = join(dir, 'daemon.yaml');
  writeFileSync(
    config,
    [
      'station: bench-daemon',
      `ports: ["${ptys}/pos*"]`,
      `watch: ["${ptys}"]`,
      'timeouts: { requestMs: 1000, identifyMs: 5000, heartbeatMs: 1000 }',
      '',
    ].join('\n'),
  );
  const manifest = join(dir, 'm.csv');
  writeFileSync(
    manifest,
    `sn,merchant,terminal,name\r\n${rows
      .map((row) => `${row.sn},${MERCHANT},${row.terminal},${row.name === undefined ? '' : `"${row.name}"`}`)
      .join('\r\n')}\r\n`,
  );
  const audit = join(dir, 'audit.sqlite3');
  const socket = join(dir, 'd.sock');
  const env = cleanEnv(dir, {
    POSBRIDGE_AUDIT: audit,
    POSBRIDGE_SOCKET: socket,
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
  });
  return {
    dir,
    ptys,
    config,
    manifest,
    junit: join(dir, 'j.xml'),
    audit,
    socket,
    env,
    link: (name) => join(ptys, name),
  };
}

/**
 * Edits the run-start record of `runId` (replacing `from` with `to` in its payload) the way a
 * person with the file and sqlite3 would: the append-only triggers dropped first. Returns the
 * record's seq.
 */
export function tamperRunStart(audit: string, runId: string, from: string, to: string): number {
  const db = new Database(audit);
  try {
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as Array<{
      name: string;
    }>;
    for (const { name } of triggers) db.exec(`DROP TRIGGER "${name}"`);
    const row = db
      .prepare("SELECT seq, payload FROM events WHERE type = 'run-start' AND run_id = ?")
      .get(runId) as { seq: number; payload: string } | undefined;
    if (!row) throw new Error(`no run-start record for run ${runId} in ${audit}`);
    if (!row.payload.includes(from))
      throw new Error(`record ${row.seq} does not hold ${from}: ${row.payload}`);
    const changed = db
      .prepare('UPDATE events SET payload = ? WHERE seq = ?')
      .run(row.payload.replace(from, to), row.seq).changes;
    if (changed !== 1) throw new Error(`record ${row.seq} was not changed`);
    return row.seq;
  } finally {
    db.close();
  }
}

/** The verbs a `posbridge mock` received, from its log (one "command" line per request). */
export function mockRequestVerbs(mockStderr: string): string[] {
  return [...mockStderr.matchAll(/"request":"(?:@\d+ )?([A-Z_]+)/g)].map((m) => m[1]!);
}
