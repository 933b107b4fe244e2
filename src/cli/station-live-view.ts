/**
 * What the technician watches: one line per port (serial number, last step, state), redrawn in
 * place on a terminal (ANSI cursor movement), appended as plain lines otherwise (one line each
 * time a port's line changes: CI logs, pipes, files). Then the summary.
 *
 * The model (applyStationEvent) and the rendering (formatPortLine, renderTtyFrame,
 * renderStationSummary) are pure functions; LiveView only keeps the state and writes.
 */
import type { StepOutcome } from '../host/workflow/report.js';
import type { RowOutcome, StationEvent, StationSummary } from '../station/station.js';
import type { Colour } from './io.js';
import { visible } from './render.js';

export type Paint = (colour: Colour, text: string) => string;
export const noPaint: Paint = (_colour, text) => text;

export type LinePhase =
  | 'identifying'
  | 'queued'
  | 'running'
  | RowOutcome
  | 'unknown'
  | 'error'
  | 'gone'
  | 'repeat'
  | 'duplicate';

export interface PortLine {
  port: string;
  sn?: string;
  /** The last step reported, with its outcome. */
  step?: { name: string; outcome: StepOutcome };
  phase: LinePhase;
  attempt?: number;
  /** Diagnostics counts, an error message, or why the terminal was left alone. */
  note?: string;
  /** The terminal was unplugged after its line reached a result. */
  unplugged?: boolean;
}

/** Ports in the order they first appeared. */
export type LiveModel = ReadonlyMap<string, PortLine>;

const SETTLED: ReadonlySet<LinePhase> = new Set<LinePhase>([
  'provisioned',
  'already-provisioned',
  'failed',
  'quarantined',
  'not-run',
  'not-seen',
  'unknown',
  'repeat',
  'duplicate',
  'error',
]);

/** The model after one station event (a new map; the old one is left as it was). */
export function applyStationEvent(model: LiveModel, event: StationEvent): Map<string, PortLine> {
  const next = new Map(model);
  const set = (line: PortLine) => next.set(line.port, line);
  const current = 'port' in event ? model.get(event.port) : undefined;
  switch (event.type) {
    case 'port':
      if (event.state === 'identifying') set({ port: event.port, phase: 'identifying' });
      else if (event.state === 'error')
        set({ port: event.port, phase: 'error', ...(event.error && { note: event.error.message }) });
      else if (current && SETTLED.has(current.phase)) set({ ...current, unplugged: true });
      else set({ port: event.port, ...(current?.sn && { sn: current.sn }), phase: 'gone' });
      break;
    case 'unknown':
      set({ port: event.port, sn: event.sn, phase: 'unknown' });
      break;
    case 'queued':
      set({ port: event.port, sn: event.sn, phase: 'queued' });
      break;
    case 'started':
      set({ port: event.port, sn: event.sn, phase: 'running', attempt: event.attempt });
      break;
    case 'step':
      set({
        ...(current ?? { port: event.port }),
        sn: event.sn,
        phase: 'running',
        step: { name: event.step.step, outcome: event.step.outcome },
      });
      break;
    case 'finished': {
      const { result } = event;
      const note = result.error
        ? result.error.message
        : result.diagnostics
          ? diagText(result.diagnostics)
          : undefined;
      set({
        ...(current ?? { port: event.port }),
        sn: event.sn,
        phase: result.outcome,
        ...(note !== undefined && { note }),
        unplugged: false,
      });
      break;
    }
    case 'repeat':
      set({ port: event.port, sn: event.sn, phase: 'repeat', note: event.note });
      break;
    case 'duplicate':
      set({
        port: event.port,
        sn: event.sn,
        phase: 'duplicate',
        note: `serial number also on ${event.otherPort}: left alone`,
      });
      break;
    case 'ended':
      break;
  }
  return next;
}

export function diagText(d: { pass: number; warn: number; fail: number }): string {
  return `diagnostics ${d.pass} pass, ${d.warn} warn, ${d.fail} fail`;
}

const PHASE_TEXT: Record<LinePhase, [string, Colour | undefined]> = {
  identifying: ['identifying', 'dim'],
  queued: ['waiting for a free slot', 'dim'],
  running: ['running', 'cyan'],
  provisioned: ['provisioned', 'green'],
  'already-provisioned': ['already provisioned', 'green'],
  failed: ['FAILED', 'red'],
  quarantined: ['QUARANTINED', 'red'],
  'not-seen': ['not seen', 'yellow'],
  'not-run': ['not run', 'yellow'],
  unknown: ['unknown serial number: left untouched', 'yellow'],
  error: ['not identified', 'yellow'],
  gone: ['unplugged', 'dim'],
  repeat: ['seen again', 'dim'],
  duplicate: ['duplicate', 'yellow'],
};

const STEP_WORD: Record<StepOutcome, string> = {
  done: 'done',
  already: 'already',
  failed: 'FAILED',
  skipped: 'skipped',
  planned: 'planned',
};

export interface LineLayout {
  portWidth: number;
  snWidth: number;
  stepWidth: number;
}

/** Column widths that fit every line of the model (the sn column at least 10 wide). */
export function layoutFor(lines: Iterable<PortLine>): LineLayout {
  let portWidth = 4;
  let snWidth = 10;
  for (const line of lines) {
    portWidth = Math.max(portWidth, visible(line.port).length);
    snWidth = Math.max(snWidth, visible(line.sn ?? '').length);
  }
  return { portWidth, snWidth, stepWidth: 24 };
}

interface Segment {
  text: string;
  colour?: Colour;
}

/**
 * One port's line: `PORT  SN  LAST-STEP OUTCOME  STATE[: note]`. With `columns`, cut to fit
 * (a line that wraps breaks the in-place redraw); colour is applied after the cut.
 */
export function formatPortLine(
  line: PortLine,
  layout: LineLayout,
  paint: Paint = noPaint,
  columns?: number,
): string {
  const [word, colour] = PHASE_TEXT[line.phase];
  const step = line.step ? `${visible(line.step.name)} ${STEP_WORD[line.step.outcome]}` : '-';
  const state =
    line.phase === 'running' && (line.attempt ?? 1) > 1 ? `${word} (attempt ${line.attempt})` : word;
  const segments: Segment[] = [
    { text: `${visible(line.port).padEnd(layout.portWidth)}  ` },
    { text: `${visible(line.sn ?? '-').padEnd(layout.snWidth)}  ` },
    { text: `${step.padEnd(layout.stepWidth)}  ` },
    { text: state, ...(colour && { colour }) },
  ];
  if (line.note) segments.push({ text: `: ${visible(line.note)}` });
  if (line.unplugged) segments.push({ text: ' (unplugged)', colour: 'dim' });
  const cut = columns !== undefined && columns > 1 ? truncate(segments, columns - 1) : segments;
  return cut
    .map((s) => (s.colour ? paint(s.colour, s.text) : s.text))
    .join('')
    .trimEnd();
}

function truncate(segments: Segment[], width: number): Segment[] {
  const total = segments.reduce((n, s) => n + [...s.text].length, 0);
  if (total <= width) return segments;
  const out: Segment[] = [];
  let left = width - 1;
  for (const segment of segments) {
    const chars = [...segment.text];
    if (chars.length <= left) {
      out.push(segment);
      left -= chars.length;
      continue;
    }
    out.push({ ...segment, text: `${chars.slice(0, left).join('')}…` });
    break;
  }
  return out;
}

/**
 * The bytes that replace the block drawn last time (`previousCount` lines, the cursor just below
 * it) with `lines`: up to its first line, then each line cleared and written.
 */
export function renderTtyFrame(lines: readonly string[], previousCount: number): string {
  let out = previousCount > 0 ? `\r\u001b[${previousCount}A` : '';
  for (const line of lines) out += `\u001b[2K${line}\n`;
  // Fewer lines than before (never, today: ports stay listed) would leave old ones: clear below.
  return `${out}\u001b[J`;
}

export interface LiveViewOptions {
  /** Redraw in place (stdout is a terminal); otherwise append a line per change. */
  tty: boolean;
  paint?: Paint;
  /** The terminal's width, read at each redraw. */
  columns?: () => number | undefined;
}

/** Keeps the model and writes it: redraws on a TTY, appends changed lines otherwise. */
export class LiveView {
  private model: LiveModel = new Map();
  private drawn = 0;
  private readonly lastPlain = new Map<string, string>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly options: LiveViewOptions,
  ) {}

  get lines(): LiveModel {
    return this.model;
  }

  handle(event: StationEvent): void {
    this.model = applyStationEvent(this.model, event);
    if (this.options.tty) this.redraw();
    else this.appendChanges();
  }

  private redraw(): void {
    const layout = layoutFor(this.model.values());
    const columns = this.options.columns?.();
    const lines = [...this.model.values()].map((line) =>
      formatPortLine(line, layout, this.options.paint ?? noPaint, columns),
    );
    this.write(renderTtyFrame(lines, this.drawn));
    this.drawn = lines.length;
  }

  private appendChanges(): void {
    const layout = layoutFor(this.model.values());
    for (const line of this.model.values()) {
      // Compared without padding: a wider port elsewhere must not repeat every line.
      const key = formatPortLine(line, { portWidth: 0, snWidth: 0, stepWidth: 0 });
      if (this.lastPlain.get(line.port) === key) continue;
      this.lastPlain.set(line.port, key);
      this.write(`${formatPortLine(line, layout, this.options.paint ?? noPaint)}\n`);
    }
  }
}

const OUTCOME_TEXT: Record<RowOutcome, [string, Colour]> = {
  provisioned: ['provisioned', 'green'],
  'already-provisioned': ['already provisioned', 'green'],
  failed: ['FAILED', 'red'],
  quarantined: ['QUARANTINED', 'red'],
  'not-seen': ['not seen', 'yellow'],
  'not-run': ['not run', 'yellow'],
};

const END_TEXT: Record<StationSummary['endedBy'], string> = {
  complete: 'every row has a result',
  idle: 'no terminal left to run',
  timeout: '--timeout-total reached',
  signal: 'interrupted',
};

/** The summary for people: counts, one line per manifest row, then what was left alone. */
export function renderStationSummary(summary: StationSummary, paint: Paint = noPaint): string {
  const c = summary.counts;
  const counts = [
    `${c.provisioned} provisioned`,
    `${c['already-provisioned']} already provisioned`,
    `${c.failed} failed`,
    `${c.quarantined} quarantined`,
    `${c['not-seen']} not seen`,
    ...(c['not-run'] > 0 ? [`${c['not-run']} not run`] : []),
  ].join(', ');
  const v = visible;
  let out = `\n${paint('bold', `station ${v(summary.station)}`)}: ${summary.rows.length} terminals in ${v(summary.manifest)} (${END_TEXT[summary.endedBy]})\n`;
  out += `  ${counts}\n\n`;
  const snWidth = Math.max(2, ...summary.rows.map((r) => v(r.sn).length));
  const portWidth = Math.max(4, ...summary.rows.map((r) => v(r.port ?? '-').length));
  out += `  ${'sn'.padEnd(snWidth)}  ${'port'.padEnd(portWidth)}  ${'outcome'.padEnd(20)}  ${'diag p/w/f'.padEnd(10)}  error\n`;
  for (const row of summary.rows) {
    const [word, colour] = OUTCOME_TEXT[row.outcome];
    const d = row.diagnostics;
    const diag = d ? `${d.pass}/${d.warn}/${d.fail}` : '-';
    const error = row.error
      ? paint(
          row.outcome === 'failed' || row.outcome === 'quarantined' ? 'red' : 'yellow',
          v(row.error.message),
        )
      : '';
    out +=
      `  ${v(row.sn).padEnd(snWidth)}  ${v(row.port ?? '-').padEnd(portWidth)}  ${paint(colour, word.padEnd(20))}  ${diag.padEnd(10)}  ${error}`.trimEnd();
    out += '\n';
  }
  const hints = [...new Set(summary.rows.flatMap((r) => (r.error?.hint ? [r.error.hint] : [])))];
  if (hints.length > 0) {
    out += `\n  ${paint('dim', 'what to do:')}\n`;
    for (const hint of hints) out += `    ${v(hint)}\n`;
  }
  if (summary.unknown.length > 0) {
    out += `\n  ${paint('yellow', 'not in the manifest (left untouched):')}\n`;
    for (const u of summary.unknown)
      out += `    ${v(`sn ${u.sn}${u.model ? ` (${u.model})` : ''} on ${u.port}`)}\n`;
  }
  if (summary.unidentified.length > 0) {
    out += `\n  ${paint('yellow', 'ports that could not be identified:')}\n`;
    for (const u of summary.unidentified)
      out += `    ${v(`${u.port}${u.error ? `: ${u.error.message}` : ''}`)}\n`;
  }
  // The anchor of the whole run in the audit trail (docs/cli.md, "Anchors"): keep it elsewhere.
  if (summary.auditHead !== undefined) out += `\n  ${paint('dim', 'audit head')} ${summary.auditHead}\n`;
  return out;
}
