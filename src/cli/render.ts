/**
 * Reports as people read them: one line per step as it happens, then a summary.
 *
 * Every string that came from a terminal or a file (model, fw, names, hints, messages, history,
 * CSV cells, manifest errors) goes through `visible` before it is printed: a hostile terminal
 * must not retitle, clear or recolour the technician's screen (docs/cli.md, "Terminal text").
 */
import type { DiagReport, InfoReport, OperatorReport, PasswdReport } from '../host/engine.js';
import type { ProvisionReport, StepOutcome, StepRecord } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import type { Colour } from './io.js';

type Paint = (colour: Colour, text: string) => string;

/**
 * Characters a terminal obeys instead of showing: C0 controls (ESC starts colour, title and
 * clear-screen sequences; CR and LF forge lines), DEL, the C1 controls U+0080-U+009F (U+009B is
 * a one-character CSI), line and paragraph separators, and the bidi controls that reorder what
 * is shown (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069). Zero-width characters
 * (U+200B-U+200D, U+2060, U+FEFF) are shown too: a number that holds one is not what it looks like.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const JSON_RAW = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escapeOf(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `visible`, keeping the line breaks of a message that lists things on indented lines (a
 * manifest's problems): only a break followed by an indent stays one, so text from a terminal
 * cannot start a line of its own that reads like posbridge's.
 */
export function visibleLines(text: string): string {
  return text
    .split(/\n(?= {2})/)
    .map(visible)
    .join('\n');
}

/** Text from a terminal or a file, made safe to print: each control character written as `\x1b` or `\u202e`. */
export function visible(text: string): string {
  return text.replace(CONTROL, escapeOf);
}

/** `visible` for a CSV cell: a tab or a line break in a quoted cell is data the CSV keeps. */
export function visibleCell(text: string): string {
  return text.replace(CONTROL, (char) =>
    char === '\t' || char === '\n' || char === '\r' ? char : escapeOf(char),
  );
}

/**
 * A JSON text with the characters JSON.stringify leaves raw (DEL, C1, separators, bidi and
 * zero-width characters) written as `\u` escapes: the same document, harmless on a screen.
 */
export function jsonSafe(json: string): string {
  // C0 controls are escaped by JSON.stringify already; raw ones are its own line breaks.
  return json.replace(JSON_RAW, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const OUTCOME_MARK: Record<StepOutcome, [string, Colour]> = {
  done: ['done', 'green'],
  already: ['already done', 'dim'],
  failed: ['FAILED', 'red'],
  skipped: ['skipped', 'dim'],
  planned: ['would do', 'cyan'],
};

export function renderStep(step: StepRecord, paint: Paint): string {
  const [word, colour] = OUTCOME_MARK[step.outcome];
  return `  ${visible(step.step).padEnd(17)} ${paint(colour, word.padEnd(12))} ${visible(step.detail)}\n`;
}

const STATUS_COLOUR: Record<DiagCheckResult['status'], Colour> = {
  pass: 'green',
  warn: 'yellow',
  fail: 'red',
};

export function renderCheck(result: DiagCheckResult, paint: Paint): string {
  const code = result.code ? ` ${visible(result.code)}` : '';
  const hint = result.hint ? `: ${visible(result.hint)}` : '';
  const ms = result.ms !== undefined ? paint('dim', ` (${result.ms} ms)`) : '';
  return `    ${visible(result.check).padEnd(9)} ${paint(STATUS_COLOUR[result.status], result.status.padEnd(4))}${code}${hint}${ms}\n`;
}

const RUN_TEXT: Record<ProvisionReport['outcome'], [string, Colour]> = {
  provisioned: ['provisioned', 'green'],
  'already-provisioned': ['already provisioned: nothing changed', 'green'],
  planned: ['dry run: nothing was changed', 'cyan'],
  quarantined: ['QUARANTINED: tampered terminal, no credential touched', 'red'],
  failed: ['FAILED', 'red'],
};

export function renderProvisionSummary(report: ProvisionReport, paint: Paint): string {
  const id = visible(
    report.terminal
      ? `${report.terminal.model} sn ${report.terminal.sn} fw ${report.terminal.fw}`
      : report.port,
  );
  const [text, colour] = RUN_TEXT[report.outcome];
  let out = `\n${paint('bold', id)}: ${paint(colour, text)}\n`;
  out += visible(
    `  merchant ${report.merchant}  terminal ${report.terminalNumber}  technician ${report.technician}  station ${report.station}`,
  );
  out += '\n';
  if (report.diagnostics) {
    const d = report.diagnostics;
    out += `  diagnostics: ${d.pass} pass, ${d.warn} warn, ${d.fail} fail\n`;
    for (const result of d.results) if (result.status !== 'pass') out += renderCheck(result, paint);
  }
  if (report.credentialsFile)
    out += `  operator first passwords written to ${visible(report.credentialsFile)} (owner-only)\n`;
  if (report.error) out += renderErrorLines(report.error.message, report.error.hint, paint);
  if (report.auditHead) out += renderAuditHead(report.auditHead, paint);
  return out;
}

/** The anchor a run left in the audit trail, to keep elsewhere (docs/cli.md, "Anchors"). */
export function renderAuditHead(head: string, paint: Paint): string {
  return `  ${paint('dim', 'audit head')} ${head}\n`;
}

export function renderErrorLines(message: string, hint: string | undefined, paint: Paint): string {
  return `${paint('red', 'error:')} ${visibleLines(message)}\n${hint ? `  ${paint('dim', 'what to do:')} ${visibleLines(hint)}\n` : ''}`;
}

export function renderInfo(report: InfoReport, paint: Paint): string {
  const { hello, status } = report;
  const v = visible;
  const lines = [
    `${paint('bold', `${v(hello.model)} sn ${v(hello.sn)}`)} (fw ${v(hello.fw)}, TSP/${hello.proto}) on ${v(report.port)}`,
    `  state          ${v(status.state)}`,
    `  bound to       ${status.merchant ? v(`merchant ${status.merchant} terminal ${status.terminal}${status.name ? ` "${status.name}"` : ''}`) : '-'}`,
    `  factory pw     ${status.factoryPw.length > 0 ? paint('yellow', v(status.factoryPw.join(', '))) : 'none'}`,
    `  locked         ${status.locked ? paint('red', 'yes') : 'no'}${status.attemptsLeft !== undefined ? `  (${status.attemptsLeft} login attempts left)` : '  (lockout disabled)'}`,
    `  tamper         ${status.tamper ? paint('red', 'TAMPERED') : 'no'}`,
    `  capabilities   ${v(hello.caps.join(', '))}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The checks (unless already shown as they arrived: check-progress.ts), then the counts. */
export function renderDiag(report: DiagReport, paint: Paint, checksShown = false): string {
  const d = report.diagnostics;
  let out = '';
  if (!checksShown) for (const result of d.results) out += renderCheck(result, paint);
  return `${out}diagnostics of sn ${visible(report.sn)}: ${d.pass} pass, ${d.warn} warn, ${d.fail} fail\n`;
}

export function renderOperators(report: OperatorReport, paint: Paint): string {
  let out =
    report.action === 'list'
      ? ''
      : `${report.action} ${visible(report.id ?? '')}: ${paint('green', 'done')}\n`;
  out += `operators of sn ${visible(report.sn)}:\n`;
  for (const o of report.operators) {
    out += `  ${visible(o.id)}  ${visible(o.name).padEnd(20)} ${visible(o.perms.join(',')).padEnd(34)} ${o.mustChange ? paint('yellow', 'must change password') : ''}\n`;
  }
  return out;
}

export function renderPasswd(report: PasswdReport, paint: Paint): string {
  const who =
    report.user === 'admin'
      ? 'admin password'
      : `password of operator ${visible(report.user)} (to change at first login)`;
  return `${who} of sn ${visible(report.sn)}: ${paint('green', 'changed')}\n`;
}
