/**
 * `posbridge conformance` output: one line per check as it finishes, the failure's details under
 * it, the summary a vendor attaches to a certification request, and the JUnit file for CI. Every
 * wire line here was masked by the suite (maskLine) and shows bytes outside ASCII as ⟨HH⟩; text
 * from the terminal (its identity, a field quoted in a failure) goes through `visible`, like
 * every terminal's text posbridge prints.
 */
import type { Check, CheckResult, Identity, SuiteReport } from '../conformance/index.js';
import { escapeXml } from '../station/index.js';
import type { Colour } from './io.js';
import { visible } from './render.js';

type Paint = (colour: Colour, text: string) => string;

const MARK: Record<CheckResult['outcome'], [string, Colour]> = {
  pass: ['PASS', 'green'],
  fail: ['FAIL', 'red'],
  skip: ['SKIP', 'yellow'],
};

export function renderCheckList(checks: readonly Check[]): string {
  let out = '';
  let group = '';
  for (const c of checks) {
    if (c.group !== group) {
      group = c.group;
      out += `${group}\n`;
    }
    out += `  ${c.id.padEnd(40)} ${c.section.padEnd(34)} ${c.title}\n`;
  }
  return out;
}

export function renderIdentity(identity: Identity, port: string, paint: Paint): string {
  return `${paint('bold', visible(`${identity.model} sn ${identity.sn} fw ${identity.fw}`))} on ${visible(port)}\n`;
}

export function renderResult(result: CheckResult, paint: Paint): string {
  const [word, colour] = MARK[result.outcome];
  let out = `${paint(colour, word)}  ${result.id.padEnd(40)} ${paint('dim', result.section.padEnd(30))} ${result.title}\n`;
  if (result.failure) {
    const f = result.failure;
    out += `        ${paint('red', visible(f.message))}\n`;
    if (f.expected !== undefined) out += `        expected: ${visible(f.expected)}\n`;
    if (f.got !== undefined) out += `        got:      ${visible(f.got)}\n`;
    for (const more of f.more ?? []) out += `        also:     ${visible(more)}\n`;
    for (const line of f.wire) out += `        ${paint('dim', visible(line))}\n`;
  }
  if (result.skipped) out += `        ${paint('dim', visible(result.skipped))}\n`;
  return out;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The summary for a certification request: who was tested, against what, by what, and how it went. */
export function renderSummary(report: SuiteReport, paint: Paint): string {
  const { counts, terminal, spec } = report;
  const passed = counts.fail === 0 && counts.skip === 0 && !report.stopped;
  const verdict = passed
    ? paint('green', `PASSED: all ${counts.total} checks passed`)
    : paint(
        'red',
        `FAILED: ${counts.pass} of ${counts.total} checks passed, ${counts.fail} failed, ${counts.skip} skipped`,
      );
  const byGroup = report.groups
    .map((group) => {
      const of = report.results.filter((r) => r.group === group);
      const ok = of.filter((r) => r.outcome === 'pass').length;
      return `${group} ${ok}/${of.length}`;
    })
    .join(', ');
  const lines = [
    '',
    paint('bold', `${spec.protocol} conformance summary`),
    `  terminal       ${visible(`model ${terminal.model}, sn ${terminal.sn}, fw ${terminal.fw}`)}`,
    `  port           ${visible(report.port)}`,
    `  posbridge      ${report.posbridge}`,
    `  specification  ${spec.protocol}, ${spec.document} (${spec.revision})`,
    `  groups         ${byGroup}`,
    `  started        ${report.startedAt}`,
    `  duration       ${seconds(report.durationMs)}`,
    `  result         ${verdict}`,
  ];
  if (report.stopped) lines.push(`  stopped        ${paint('red', visible(report.stopped.message))}`);
  lines.push(
    report.finalReset === 'done'
      ? '  terminal       left in factory state (RESET at the end)'
      : `  terminal       ${paint('yellow', "NOT reset at the end: its admin password may be the suite's (docs/conformance.md)")}`,
  );
  return `${lines.join('\n')}\n`;
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value), true)}"`)
    .join('');
}

/** JUnit XML: one testsuite per group, one testcase per check (classname tsp1.GROUP, name the check's ID). */
export function renderConformanceJunit(report: SuiteReport): string {
  const { terminal } = report;
  const time = (ms: number) => (ms / 1000).toFixed(3);
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  out += `<testsuites${attrs({
    name: `${report.spec.protocol} conformance of ${terminal.model} sn ${terminal.sn}`,
    tests: report.counts.total,
    failures: report.counts.fail,
    errors: 0,
    skipped: report.counts.skip,
    time: time(report.durationMs),
  })}>\n`;
  for (const group of report.groups) {
    const results = report.results.filter((r) => r.group === group);
    out += `  <testsuite${attrs({
      name: group,
      tests: results.length,
      failures: results.filter((r) => r.outcome === 'fail').length,
      errors: 0,
      skipped: results.filter((r) => r.outcome === 'skip').length,
      time: time(results.reduce((sum, r) => sum + r.ms, 0)),
      timestamp: report.startedAt,
    })}>\n`;
    out += '    <properties>\n';
    for (const [name, value] of [
      ['model', terminal.model],
      ['sn', terminal.sn],
      ['fw', terminal.fw],
      ['port', report.port],
      ['posbridge', report.posbridge],
      ['specification', `${report.spec.protocol}, ${report.spec.document} (${report.spec.revision})`],
    ] as const)
      out += `      <property${attrs({ name, value })}/>\n`;
    out += '    </properties>\n';
    for (const r of results) {
      out += `    <testcase${attrs({ classname: `tsp1.${group}`, name: `${r.id} (${r.section})`, time: time(r.ms) })}>\n`;
      if (r.failure) {
        const body = [
          r.title,
          r.failure.expected !== undefined ? `expected: ${r.failure.expected}` : '',
          r.failure.got !== undefined ? `got: ${r.failure.got}` : '',
          ...(r.failure.more ?? []).map((m) => `also: ${m}`),
          ...r.failure.wire,
        ]
          .filter(Boolean)
          .join('\n');
        out += `      <failure${attrs({ message: r.failure.message, type: r.section })}>${escapeXml(body)}</failure>\n`;
      }
      if (r.skipped) out += `      <skipped${attrs({ message: r.skipped })}/>\n`;
      out += '    </testcase>\n';
    }
    out += '  </testsuite>\n';
  }
  return `${out}</testsuites>\n`;
}
