/**
 * A station run started from the dashboard (docs/dashboard.md, "Station run"): the manifest (and
 * a profile) dropped on the page, the admin password typed there, the daemon's own hub and
 * engine doing the work, as `posbridge station` does through the daemon. The password arrives
 * once in a POST body over the session; it is held as a Secret for the run and never stored,
 * logged, published or sent back. The station's events go to the hub, so the tiles fill.
 *
 *   POST /api/station        { manifest: {name, text}, profile?: {name, text}, adminPassword }
 *   POST /api/station/stop   no new terminal; runs under way finish
 *   GET  /api/station        { state, rows, total?, summary?, credentialsFile? }
 *   GET  /api/station/junit, /api/station/csv   the results of the last run, once it ended
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { toCsv } from '../../audit/csv.js';
import type { Engine } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { HubEvent, PortManager } from '../../host/hub.js';
import { Secret } from '../../host/secret.js';
import { DEFAULT_PROFILE, type Profile } from '../../host/workflow/profile.js';
import { parseProfile } from '../../host/workflow/profile-file.js';
import { checkPassword, PASSWORD_PROBLEM_TEXT } from '../../protocol/index.js';
import {
  ManifestError,
  type ManifestRow,
  parseManifest,
  renderJunit,
  Station,
  type StationEvent,
  type StationRowResult,
  type StationSummary,
} from '../../station/index.js';
import { HttpProblem, json } from '../api/http.js';
import type { DashboardRoute } from './dashboard-server.js';

export interface PageStationOptions {
  hub: PortManager;
  engine: Engine;
  logger: Logger;
  now: () => Date;
  /** For the record: the daemon's station name and who runs it. */
  station: string;
  technician: string;
  /** Where generated operator first passwords go (the daemon's credentials file), if anywhere. */
  credentials?: {
    path: string;
    record(sn: string, operatorId: string, password: Secret): Promise<void>;
  };
  hostname: string;
}

const FILE_LIMIT = 512 * 1024;
const file = z.object({ name: z.string().min(1).max(200), text: z.string().max(FILE_LIMIT) });
const startBody = z.object({ manifest: file, profile: file.optional(), adminPassword: z.string() }).strict();

type Read = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export class PageStation {
  private run: { station: Station; done: Promise<StationSummary> } | undefined;
  private results = new Map<string, StationRowResult>();
  private summary: StationSummary | undefined;
  /** The manifest rows of the last run started: "1 of 2 done" on a page opened mid-run. */
  private total: number | undefined;

  constructor(private readonly options: PageStationOptions) {}

  get routes(): Record<string, DashboardRoute> {
    return {
      station: (_req, res, body) => this.start(res, body),
      'station/stop': async (_req, res) => {
        this.run?.station.stop('signal');
        json(res, 200, { stopping: this.run !== undefined });
      },
    };
  }

  get reads(): Record<string, Read> {
    return {
      station: async (_req, res) => json(res, 200, this.state()),
      'station/junit': async (_req, res) =>
        this.download(res, 'station.xml', 'application/xml; charset=utf-8', (s) =>
          renderJunit(s, { hostname: this.options.hostname }),
        ),
      'station/csv': async (_req, res) =>
        this.download(res, 'station.csv', 'text/csv; charset=utf-8', resultsCsv),
    };
  }

  /** No new terminal for the run under way (shutdown). */
  stop(): void {
    this.run?.station.stop('signal');
  }

  /** Resolves when the run under way has ended (tests, shutdown). */
  async settled(): Promise<void> {
    await this.run?.done.catch(() => undefined);
  }

  private state() {
    return {
      state: this.run ? 'running' : this.summary ? 'ended' : 'idle',
      rows: [...this.results.values()],
      ...(this.total !== undefined && { total: this.total }),
      ...(this.summary && { summary: this.summary }),
      ...(this.options.credentials && { credentialsFile: this.options.credentials.path }),
    };
  }

  private download(
    res: ServerResponse,
    name: string,
    type: string,
    render: (summary: StationSummary) => string,
  ): void {
    if (!this.summary)
      throw new HttpProblem(404, 'no station run has ended yet', 'start one, and download when it ends');
    const text = render(this.summary);
    res.writeHead(200, {
      'content-type': type,
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(text);
  }

  private async start(res: ServerResponse, body: unknown): Promise<void> {
    if (this.run)
      throw new HttpProblem(409, 'a station run is already under way', 'wait for it to end, or stop it');
    const parsed = startBody.safeParse(body);
    if (!parsed.success)
      throw new PosbridgeError('USAGE', 'a station run needs a manifest file and the admin password', {
        hint: 'choose a manifest (CSV or JSON) and type the password; nothing was sent',
      });
    const { manifest, profile, adminPassword } = parsed.data;
    // Held as a Secret from here on: its text never reaches a log, an event or a reply.
    const password = new Secret(adminPassword);
    const problem = checkPassword(password.reveal());
    if (problem)
      throw new PosbridgeError('USAGE', `the new admin password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
        hint: 'choose 6-32 printable characters, not a default, a repeat or a straight run; nothing was sent',
      });
    const rows = this.rowsOf(manifest, profile);
    const { credentials } = this.options;
    const station = new Station({
      rows,
      manifest: manifest.name,
      hub: this.options.hub,
      engine: this.options.engine,
      adminPassword: password,
      technician: this.options.technician,
      station: this.options.station,
      now: this.options.now,
      ...(credentials && { recordGenerated: (sn, id, pw) => credentials.record(sn, id, pw) }),
    });
    station.subscribe((event) => this.observe(event, rows.length));
    this.results.clear();
    this.summary = undefined;
    this.total = rows.length;
    // Before its first terminal's events: the page learns of the run, then of what it does.
    this.publish({ type: 'station-started', manifest: manifest.name, rows: rows.length });
    // A run that throws as it starts still ends on the event stream (the error branch below).
    let done: ReturnType<typeof station.run>;
    try {
      done = station.run();
    } catch (error) {
      done = Promise.reject(error);
    }
    this.run = { station, done };
    // The end goes on the event stream once GET /api/station and the downloads say so too.
    done.then(
      (summary) => {
        this.summary = summary;
        this.run = undefined;
        this.publish({
          type: 'station-ended',
          endedBy: summary.endedBy,
          counts: summary.counts,
          rows: rows.length,
        });
      },
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'page station run failed');
        this.run = undefined;
        this.publish({ type: 'station-ended', endedBy: 'error', counts: {}, rows: rows.length });
      },
    );
    this.options.logger.info({ manifest: manifest.name, rows: rows.length }, 'station run from the page');
    json(res, 202, {
      started: true,
      rows: rows.length,
      ...(credentials && { credentialsFile: credentials.path }),
    });
  }

  /** The manifest's rows with their profile: the one dropped, named by a row or for all rows. */
  private rowsOf(manifest: z.output<typeof file>, dropped: z.output<typeof file> | undefined): ManifestRow[] {
    const parsed = parseManifest(manifest.text, manifest.name);
    if (parsed.problems.length > 0) throw new ManifestError(manifest.name, parsed.problems);
    const profile: Profile = dropped ? parseProfile(dropped.text, dropped.name) : DEFAULT_PROFILE;
    const problems = [];
    for (const row of parsed.rows) {
      if (row.profilePath !== undefined && (!dropped || basename(row.profilePath) !== dropped.name))
        problems.push({
          file: manifest.name,
          where: row.where,
          field: 'profile',
          message: `names ${row.profilePath}: drop that profile with the manifest (one profile per run from the page)`,
        });
    }
    if (problems.length > 0) throw new ManifestError(manifest.name, problems);
    for (const operator of profile.operators) {
      if (operator.password !== 'generate')
        throw new PosbridgeError(
          'USAGE',
          `operator ${operator.id}'s first password comes from a file or variable the page cannot give`,
          {
            hint: 'use "generate" in the profile for a page run, or run `posbridge station`; nothing was sent',
          },
        );
      if (!this.options.credentials)
        throw new PosbridgeError('USAGE', 'this daemon keeps no credentials file for generated passwords', {
          hint: 'run `posbridge station --credentials-out FILE` instead; nothing was sent',
        });
    }
    return parsed.rows.map((row) => ({ ...row, profile }));
  }

  /** To the hub (the tiles, the event stream, the metrics); a subscriber's failure is only logged. */
  private publish(event: HubEvent): void {
    try {
      this.options.hub.publish(event);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'publishing a station event failed');
    }
  }

  /** The station's events to the hub as provision operations, and each row's result as progress. */
  private observe(event: StationEvent, rows: number): void {
    switch (event.type) {
      case 'started':
        this.publish({
          type: 'operation-started',
          port: event.port,
          operation: 'provision',
          id: `station-${event.sn}`,
        });
        break;
      case 'step':
        this.publish({ type: 'step', port: event.port, operation: 'provision', step: event.step });
        break;
      case 'finished':
        this.results.set(event.sn, event.result);
        this.publish({
          type: 'operation-finished',
          port: event.port,
          operation: 'provision',
          outcome: event.result.report?.outcome ?? event.result.outcome,
          ...(event.result.report && { report: event.result.report }),
        });
        this.publish({
          type: 'station-progress',
          sn: event.sn,
          port: event.port,
          outcome: event.result.outcome,
          done: this.results.size,
          rows,
        });
        break;
      default:
        break;
    }
  }
}

const RESULT_COLUMNS = [
  'sn',
  'manifest',
  'merchant',
  'terminal',
  'name',
  'port',
  'outcome',
  'attempts',
  'diagnostics',
  'error',
  'hint',
  'started',
  'finished',
  'audit_head',
];

/** One line per manifest row, with the report's spreadsheet rules (src/audit/csv.ts). */
export function resultsCsv(summary: StationSummary): string {
  const rows = summary.rows.map((row) => ({
    sn: row.sn,
    manifest: row.where,
    merchant: row.merchant,
    terminal: row.terminal,
    name: row.name,
    port: row.port,
    outcome: row.outcome,
    attempts: row.attempts,
    diagnostics:
      row.diagnostics &&
      `${row.diagnostics.pass} pass, ${row.diagnostics.warn} warn, ${row.diagnostics.fail} fail`,
    error: row.error && `${row.error.code}: ${row.error.message}`,
    hint: row.error?.hint,
    started: row.startedAt,
    finished: row.finishedAt,
    audit_head: row.auditHead,
  }));
  return toCsv(rows, RESULT_COLUMNS);
}
