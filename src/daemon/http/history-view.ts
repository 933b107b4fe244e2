/**
 * The dashboard's history (docs/dashboard.md, "History"): the runs of the daemon's audit trail
 * per terminal with their steps, the chain's `--verify` status and head, and the report as CSV,
 * as `posbridge history` and `posbridge report` give them (the same store functions).
 *
 *   GET /api/history?sn=SN&since=DATE&until=DATE   { file, runs, verify: { ok, rows, head, problem? } }
 *   GET /api/history/csv?since=DATE                the report (REPORT_COLUMNS), as `report --format csv`
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatAnchor } from '../../audit/anchor.js';
import { AuditStore, REPORT_COLUMNS, toCsv } from '../../audit/index.js';
import { PosbridgeError } from '../../host/errors.js';
import { json } from '../api/http.js';

type Read = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

function dateParam(url: URL, name: string, endOfDay = false): Date | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const date = new Date(day ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime()))
    throw new PosbridgeError('USAGE', `${name} must be a date (YYYY-MM-DD or ISO 8601), not "${text}"`);
  // `until` a day: the whole of that day.
  return endOfDay && day ? new Date(date.getTime() + 86_400_000) : date;
}

export function historyReads(file: string): Record<string, Read> {
  const withStore = <T>(use: (store: AuditStore) => T): T | undefined => {
    if (!existsSync(file)) return undefined;
    const store = AuditStore.open(file, { readonly: true });
    try {
      return use(store);
    } finally {
      store.close();
    }
  };
  return {
    history: async (_req, res, url) => {
      const sn = url.searchParams.get('sn') || undefined;
      const since = dateParam(url, 'since');
      const until = dateParam(url, 'until', true);
      const found = withStore((store) => {
        const runs = store
          .history({ ...(sn && { sn }), ...(since && { since }), limit: 500 })
          .filter((run) => !until || new Date(run.startedAt) < until);
        const verify = store.verify();
        return {
          runs,
          verify: {
            ok: verify.ok,
            rows: verify.rows,
            head: formatAnchor(verify.head),
            ...(verify.problem && { problem: verify.problem }),
          },
        };
      });
      json(res, 200, { file, ...(found ?? { runs: [], verify: { ok: true, rows: 0 } }) });
    },
    'history/csv': async (_req, res, url) => {
      const since = dateParam(url, 'since');
      const rows = withStore((store) => store.report({ ...(since && { since }) })) ?? [];
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="posbridge-report.csv"',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(toCsv(rows, REPORT_COLUMNS));
    },
  };
}
