/**
 * The screen output of `posbridge status` (the daemon's terminals as a table) and `posbridge
 * watch` (one line per event). Every string that came from a terminal goes through visible().
 */
import type { TerminalStatusRow } from '../daemon/api/bench-status.js';
import type { ResyncEvent } from '../daemon/api/event-journal.js';
import type { HubEvent, TerminalInfo } from '../host/hub.js';
import type { Colour } from './io.js';
import { visible, visibleCell } from './render.js';

type Paint = (colour: Colour, text: string) => string;

const HEADERS = ['PORT', 'SN', 'MODEL', 'FW', 'STATE', 'FACTORY PW', 'LOCKED', 'BUSY', 'LAST RESULT'];

const COLOUR_OF: Partial<Record<TerminalStatusRow['condition'], Colour>> = {
  provisioned: 'green',
  failed: 'red',
  locked: 'red',
  tamper: 'red',
  error: 'red',
  gone: 'dim',
  identifying: 'yellow',
};

function locked(row: TerminalStatusRow): string {
  const status = row.status;
  if (!status) return '-';
  if (status.locked) return 'yes';
  return status.attemptsLeft === undefined ? 'no' : `no (${status.attemptsLeft} left)`;
}

function busy(row: TerminalStatusRow): string {
  const activity = row.activity;
  if (!activity) return row.state === 'busy' ? 'yes' : '-';
  return activity.step ? `${activity.operation}: ${activity.step.step}` : activity.operation;
}

function lastResult(row: TerminalStatusRow): string {
  const last = row.lastResult;
  return last ? `${last.operation} ${last.outcome}` : '-';
}

/** The cells of one row, plain (colour is added after padding). */
function cells(row: TerminalStatusRow): string[] {
  const hello = row.hello;
  return [
    row.port,
    hello?.sn ?? '-',
    hello?.model ?? '-',
    hello?.fw ?? '-',
    row.condition,
    row.status ? (row.status.factoryPw.length ? row.status.factoryPw.join(',') : 'none') : '-',
    locked(row),
    busy(row),
    lastResult(row),
  ].map((cell) => visibleCell(cell));
}

export function renderStatusTable(rows: TerminalStatusRow[], paint: Paint): string {
  if (rows.length === 0) return 'no terminals: the daemon sees none plugged in\n';
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[], colour?: Colour) =>
    `${r
      .map((cell, i) => {
        const padded = i === r.length - 1 ? cell : cell.padEnd(widths[i]!);
        return i === 4 && colour ? paint(colour, padded) : padded;
      })
      .join('  ')}\n`;
  return (
    paint('bold', line(HEADERS).trimEnd()) +
    '\n' +
    rows.map((row, i) => line(table[i + 1]!, COLOUR_OF[row.condition])).join('')
  );
}

function who(terminal: TerminalInfo): string {
  const sn = terminal.hello?.sn;
  return sn ? `${terminal.port} (sn ${sn})` : terminal.port;
}

/** One readable line for one event of the stream (without the trailing newline). */
export function renderWatchLine(event: HubEvent | ResyncEvent, at: Date, paint: Paint): string {
  const time = at.toISOString().slice(11, 19);
  const text = ((): string => {
    switch (event.type) {
      case 'terminal-added':
        return `${who(event.terminal)} plugged in: ${event.terminal.state}`;
      case 'terminal-updated': {
        const t = event.terminal;
        const error = t.error ? `: ${t.error.message}` : '';
        return `${who(t)} ${t.state}${t.status ? ` (${t.status.state})` : ''}${error}`;
      }
      case 'terminal-removed':
        return `${who(event.terminal)} gone`;
      case 'operation-started':
        return `${event.port} ${event.operation} started`;
      case 'step':
        return `${event.port} ${event.operation} ${event.step.step} ${event.step.outcome}: ${event.step.detail}`;
      case 'operation-finished': {
        const error = event.report?.error ? `: ${event.report.error.message}` : '';
        return `${event.port} ${event.operation} finished: ${event.outcome}${error}`;
      }
      case 'station-started':
        return `station run started: ${event.manifest}, ${event.rows} rows`;
      case 'station-progress':
        return `station run ${event.done}/${event.rows}: ${event.sn}${event.port ? ` on ${event.port}` : ''} ${event.outcome}`;
      case 'station-ended': {
        const counts = Object.entries(event.counts)
          .filter(([, n]) => n > 0)
          .map(([outcome, n]) => `${n} ${outcome}`)
          .join(', ');
        return `station run ended (${event.endedBy}): ${counts || 'no rows'}`;
      }
      case 'resync':
        return `resync (${event.reason}): events were missed; ${event.terminals.length} terminals now: ${
          event.terminals.map((t) => `${t.port} ${t.state}`).join(', ') || 'none'
        }`;
    }
  })();
  const colour: Colour | undefined =
    event.type === 'operation-finished'
      ? event.outcome === 'provisioned' || event.outcome === 'done'
        ? 'green'
        : event.outcome === 'failed' || event.outcome === 'quarantined'
          ? 'red'
          : undefined
      : event.type === 'resync'
        ? 'yellow'
        : undefined;
  const line = visible(text);
  return `${paint('dim', time)} ${colour ? paint(colour, line) : line}`;
}
