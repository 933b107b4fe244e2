import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuditRun } from '../../audit/index.js';
import { PosbridgeError } from '../../host/errors.js';
import { type CliDeps, oneOf } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { jsonSafe, renderStep, visible, visibleCell } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import type { VerifyOptions } from './history-verify.js';

// The trail's modules (SQLite, the CSV writer) load when one of these commands runs.
const audit = () => import('../../audit/index.js');
const verifying = () => import('./history-verify.js');

interface HistoryOptions extends VerifyOptions {
  sn?: string;
  since?: string;
  limit?: string;
  verify?: boolean;
  head?: boolean;
  oneline?: boolean;
}

interface ReportOptions {
  format: string;
  since?: string;
  audit?: string;
  includeDryRuns?: boolean;
  includeMocks?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerHistory(program: Command, deps: CliDeps): void {
  program
    .command('history')
    .description('what was done to which terminal, by whom and when, from the audit trail')
    .option('--sn <sn>', 'only this terminal')
    .option('--since <date>', 'only runs started at or after this date (YYYY-MM-DD or ISO 8601)')
    .option('--limit <n>', 'at most this many runs, newest first', '50')
    .option('--oneline', 'one line per run (when, what, terminal, port, outcome, who), no steps')
    .option('--verify', 'check the hash chain: exit 1 if a record was edited or deleted')
    .option('--head', 'print the head of the chain as SEQ:HASH, to keep elsewhere')
    .option(
      '--expect-head <seq:hash>',
      'with --verify (implied): exit 1 unless the trail still holds this head (repeatable)',
      collect,
    )
    .option('--expect-heads <file>', 'the same for each SEQ:HASH line of a file (repeatable)', collect)
    .option(
      '--witness <file>',
      'check against this witness file instead of the one paired with the trail (repeatable; implies --verify)',
      collect,
    )
    .option(
      '--config <file>',
      "the daemon config whose audit.witness pairs with the trail (default: the daemon's)",
    )
    .option('--audit <file>', 'the audit trail file (default: POSBRIDGE_AUDIT or the user data directory)')
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge history --sn PBM0000001\n  posbridge history --oneline --limit 20\n  posbridge history --verify\n  posbridge history --head >> ~/heads-sent-to-the-acquirer.txt\n  posbridge history --verify --expect-head 57:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n',
    )
    .action((options: HistoryOptions) =>
      runAction(deps, options, async () => {
        const verify =
          options.verify === true ||
          options.expectHead !== undefined ||
          options.expectHeads !== undefined ||
          options.witness !== undefined;
        if (options.head && verify)
          throw new PosbridgeError('USAGE', '--head and --verify go separately', {
            hint: '--verify prints the head too, once it has checked it',
          });
        if (options.head) return (await verifying()).printHead(deps, options);
        if (verify) return (await verifying()).verifyTrail(deps, options);
        const path = options.audit ?? deps.auditPath();
        if (!existsSync(path)) {
          if (options.json) printJson(deps.io, { kind: 'history', runs: [] });
          else deps.io.stdout.write(`no audit trail yet at ${path}\n`);
          return EXIT.ok;
        }
        const { AuditStore } = await audit();
        const store = AuditStore.open(path, { readonly: true });
        try {
          const runs = store.history({
            ...(options.sn !== undefined && { sn: options.sn }),
            ...(options.since !== undefined && { since: parseDate(options.since) }),
            limit: parseLimit(options.limit),
          });
          if (options.json) printJson(deps.io, { kind: 'history', runs });
          else deps.io.stdout.write(renderHistory(runs, painter(deps.io), options.oneline === true));
          return EXIT.ok;
        } finally {
          store.close();
        }
      }),
    );

  program
    .command('report')
    .description('provisioning runs for the acquirer, as CSV or JSON')
    .option('--format <format>', 'csv or json', oneOf('--format', ['csv', 'json']), 'csv')
    .option('--since <date>', 'only runs started at or after this date')
    .option('--audit <file>', 'the audit trail file, or a depot of many stations (fleet collect)')
    .option('--include-dry-runs', 'also the dry runs (provision --dry-run), which changed nothing')
    .option('--include-mocks', 'also the runs on mock terminals (mock:// ports, model PB-MOCK)')
    .option('--json', 'the same as --format json (as every command that reports takes it)')
    .addHelpText('after', '\nExample:\n  posbridge report --format csv --since 2026-11-01 > november.csv\n')
    .action((options: ReportOptions, command: Command) =>
      runAction(deps, { json: options.json }, async () => {
        if (options.json) {
          if (command.getOptionValueSource('format') === 'cli' && options.format !== 'json')
            throw new PosbridgeError('USAGE', `--json and --format ${options.format} ask for two formats`, {
              hint: 'give one of them',
            });
          options.format = 'json';
        }
        const { AuditStore, DepotStore, isDepotFile, REPORT_COLUMNS, toCsv, toJson } = await audit();
        const path = options.audit ?? deps.auditPath();
        // A depot (`posbridge fleet collect`) holds many stations' chains: one report for all.
        const store = isDepotFile(path)
          ? DepotStore.open(path, { readonly: true })
          : AuditStore.open(path, { readonly: true });
        try {
          const rows = store.report({
            ...(options.since !== undefined && { since: parseDate(options.since) }),
            includeDryRuns: options.includeDryRuns === true,
            includeMocks: options.includeMocks === true,
          });
          deps.io.stdout.write(
            options.format === 'csv'
              ? toCsv(rows, REPORT_COLUMNS, { text: visibleCell })
              : `${jsonSafe(toJson(rows))}\n`,
          );
          return EXIT.ok;
        } finally {
          store.close();
        }
      }),
    );
}

function parseDate(text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new PosbridgeError('USAGE', `--since must be a date (YYYY-MM-DD or ISO 8601), not "${text}"`);
  }
  return date;
}

function parseLimit(text: string | undefined): number {
  const n = Number(text ?? '50');
  if (!Number.isInteger(n) || n <= 0)
    throw new PosbridgeError('USAGE', `--limit must be a positive whole number, not "${text}"`);
  return n;
}

/**
 * A run's one line: when, what, which terminal on which port, how it ended, who and where. The
 * audit file is data: every string in it is shown, never obeyed (docs/cli.md, "Terminal text").
 */
export function historyLine(run: AuditRun, paint: ReturnType<typeof painter>): string {
  const terminal = run.terminal ? `${run.terminal.model} sn ${run.terminal.sn}` : 'unidentified';
  const colour =
    run.outcome === 'failed' || run.outcome === 'quarantined'
      ? 'red'
      : run.outcome === 'unfinished'
        ? 'yellow'
        : 'green';
  const dry = run.details?.dryRun === true ? ' (dry run)' : '';
  return `${visible(run.startedAt)} ${visible(run.kind).padEnd(9)} ${visible(terminal)} on ${visible(run.port)}  ${paint(colour, visible(run.outcome))}${dry}  by ${visible(run.technician)} at ${visible(run.station)}\n`;
}

function renderHistory(runs: AuditRun[], paint: ReturnType<typeof painter>, oneline: boolean): string {
  if (runs.length === 0) return 'no runs recorded\n';
  if (oneline) return runs.map((run) => historyLine(run, paint)).join('');
  return runs
    .map((run) => {
      let out = historyLine(run, paint);
      for (const step of run.steps) out += renderStep(step, paint);
      if (run.diagnostics)
        out += `  diagnostics: ${run.diagnostics.pass} pass, ${run.diagnostics.warn} warn, ${run.diagnostics.fail} fail\n`;
      if (run.error) out += `  error: ${visible(run.error.message)}\n`;
      return out;
    })
    .join('\n');
}
