/** Reports as people read them: one line per step as it happens, then a summary. */
import type { DiagReport, InfoReport, OperatorReport, PasswdReport } from '../host/engine.js';
import type { ProvisionReport, StepOutcome, StepRecord } from '../host/workflow/report.js';
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import type { Colour } from './io.js';

type Paint = (colour: Colour, text: string) => string;

const OUTCOME_MARK: Record<StepOutcome, [string, Colour]> = {
  done: ['done', 'green'],
  already: ['already done', 'dim'],
  failed: ['FAILED', 'red'],
  skipped: ['skipped', 'dim'],
  planned: ['would do', 'cyan'],
};

export function renderStep(step: StepRecord, paint: Paint): string {
  const [word, colour] = OUTCOME_MARK[step.outcome];
  return `  ${step.step.padEnd(17)} ${paint(colour, word.padEnd(12))} ${step.detail}\n`;
}

const STATUS_COLOUR: Record<DiagCheckResult['status'], Colour> = {
  pass: 'green',
  warn: 'yellow',
  fail: 'red',
};

export function renderCheck(result: DiagCheckResult, paint: Paint): string {
  const code = result.code ? ` ${result.code}` : '';
  const hint = result.hint ? `: ${result.hint}` : '';
  const ms = result.ms !== undefined ? paint('dim', ` (${result.ms} ms)`) : '';
  return `    ${result.check.padEnd(9)} ${paint(STATUS_COLOUR[result.status], result.status.padEnd(4))}${code}${hint}${ms}\n`;
}

const RUN_TEXT: Record<ProvisionReport['outcome'], [string, Colour]> = {
  provisioned: ['provisioned', 'green'],
  'already-provisioned': ['already provisioned: nothing changed', 'green'],
  planned: ['dry run: nothing was changed', 'cyan'],
  quarantined: ['QUARANTINED: tampered terminal, no credential touched', 'red'],
  failed: ['FAILED', 'red'],
};

export function renderProvisionSummary(report: ProvisionReport, paint: Paint): string {
  const id = report.terminal
    ? `${report.terminal.model} sn ${report.terminal.sn} fw ${report.terminal.fw}`
    : report.port;
  const [text, colour] = RUN_TEXT[report.outcome];
  let out = `\n${paint('bold', id)}: ${paint(colour, text)}\n`;
  out += `  merchant ${report.merchant}  terminal ${report.terminalNumber}  technician ${report.technician}  station ${report.station}\n`;
  if (report.diagnostics) {
    const d = report.diagnostics;
    out += `  diagnostics: ${d.pass} pass, ${d.warn} warn, ${d.fail} fail\n`;
    for (const result of d.results) if (result.status !== 'pass') out += renderCheck(result, paint);
  }
  if (report.credentialsFile)
    out += `  operator first passwords written to ${report.credentialsFile} (owner-only)\n`;
  if (report.error) out += renderErrorLines(report.error.message, report.error.hint, paint);
  if (report.auditHead) out += renderAuditHead(report.auditHead, paint);
  return out;
}

/** The anchor a run left in the audit trail, to keep elsewhere (docs/cli.md, "Anchors"). */
export function renderAuditHead(head: string, paint: Paint): string {
  return `  ${paint('dim', 'audit head')} ${head}\n`;
}

export function renderErrorLines(message: string, hint: string | undefined, paint: Paint): string {
  return `${paint('red', 'error:')} ${message}\n${hint ? `  ${paint('dim', 'what to do:')} ${hint}\n` : ''}`;
}

export function renderInfo(report: InfoReport, paint: Paint): string {
  const { hello, status } = report;
  const lines = [
    `${paint('bold', `${hello.model} sn ${hello.sn}`)} (fw ${hello.fw}, TSP/${hello.proto}) on ${report.port}`,
    `  state          ${status.state}`,
    `  bound to       ${status.merchant ? `merchant ${status.merchant} terminal ${status.terminal}${status.name ? ` "${status.name}"` : ''}` : '-'}`,
    `  factory pw     ${status.factoryPw.length > 0 ? paint('yellow', status.factoryPw.join(', ')) : 'none'}`,
    `  locked         ${status.locked ? paint('red', 'yes') : 'no'}${status.attemptsLeft !== undefined ? `  (${status.attemptsLeft} login attempts left)` : '  (lockout disabled)'}`,
    `  tamper         ${status.tamper ? paint('red', 'TAMPERED') : 'no'}`,
    `  capabilities   ${hello.caps.join(', ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function renderDiag(report: DiagReport, paint: Paint): string {
  const d = report.diagnostics;
  let out = `diagnostics of sn ${report.sn}:\n`;
  for (const result of d.results) out += renderCheck(result, paint);
  return `${out}  ${d.pass} pass, ${d.warn} warn, ${d.fail} fail\n`;
}

export function renderOperators(report: OperatorReport, paint: Paint): string {
  let out = report.action === 'list' ? '' : `${report.action} ${report.id}: ${paint('green', 'done')}\n`;
  out += `operators of sn ${report.sn}:\n`;
  for (const o of report.operators) {
    out += `  ${o.id}  ${o.name.padEnd(20)} ${o.perms.join(',').padEnd(34)} ${o.mustChange ? paint('yellow', 'must change password') : ''}\n`;
  }
  return out;
}

export function renderPasswd(report: PasswdReport, paint: Paint): string {
  const who =
    report.user === 'admin'
      ? 'admin password'
      : `password of operator ${report.user} (to change at first login)`;
  return `${who} of sn ${report.sn}: ${paint('green', 'changed')}\n`;
}
