/**
 * The station summary as JUnit XML for CI: one test case per manifest row (classname `station`,
 * name the serial number), a `failure` for failed, quarantined, not seen and not run rows, the
 * port and numbers as properties, the workflow's steps as system-out. The de facto schema that
 * Jenkins, GitLab and GitHub reporters read (testsuites > testsuite > testcase). The audit heads
 * (the run's on the suite, each row's on its case) are properties named `audit-head`: a CI server
 * keeps them, outside the bench PC, to check the trail against later.
 */
import type { StationRowResult, StationSummary } from './types.js';

/**
 * Text for XML 1.0: markup characters escaped; in attributes the quotes and the whitespace that
 * attribute normalization would fold (tab, CR, LF) as character references; characters XML 1.0
 * cannot carry at all (C0 controls, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD.
 */
export function escapeXml(text: string, attribute = false): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '&') out += '&amp;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (attribute && char === '"') out += '&quot;';
    else if (attribute && char === "'") out += '&apos;';
    else if (attribute && (char === '\n' || char === '\r' || char === '\t')) out += `&#${code};`;
    else if (!isXmlChar(code)) out += '\uFFFD';
    else out += char;
  }
  return out;
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

const FAILING = new Set(['failed', 'quarantined', 'not-seen', 'not-run']);

function seconds(from?: string, to?: string): string {
  if (!from || !to) return '0';
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0';
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value), true)}"`)
    .join('');
}

function testcase(row: StationRowResult): string {
  const properties: Array<[string, string]> = [
    ['port', row.port ?? ''],
    ['merchant', row.merchant],
    ['terminal', row.terminal],
    ['outcome', row.outcome],
    ['manifest', row.where],
  ];
  if (row.name !== undefined) properties.push(['name', row.name]);
  if (row.diagnostics) {
    const d = row.diagnostics;
    properties.push(['diagnostics', `${d.pass} pass, ${d.warn} warn, ${d.fail} fail`]);
  }
  if (row.auditHead !== undefined) properties.push(['audit-head', row.auditHead]);
  let out = `    <testcase${attrs({ classname: 'station', name: row.sn, time: seconds(row.startedAt, row.finishedAt) })}>\n`;
  out += '      <properties>\n';
  for (const [name, value] of properties) out += `        <property${attrs({ name, value })}/>\n`;
  out += '      </properties>\n';
  if (FAILING.has(row.outcome)) {
    const message = row.error?.message ?? row.outcome;
    const body = [row.error?.code, row.error?.hint && `what to do: ${row.error.hint}`]
      .filter(Boolean)
      .join('\n');
    out += `      <failure${attrs({ message, type: row.outcome })}>${escapeXml(body)}</failure>\n`;
  }
  const steps = row.report?.steps ?? [];
  if (steps.length > 0) {
    const text = steps.map((s) => `${s.step} ${s.outcome}: ${s.detail}`).join('\n');
    out += `      <system-out>${escapeXml(text)}</system-out>\n`;
  }
  return `${out}    </testcase>\n`;
}

export function renderJunit(summary: StationSummary, options: { hostname?: string } = {}): string {
  const failures = summary.rows.filter((r) => FAILING.has(r.outcome)).length;
  const tests = summary.rows.length;
  const time = seconds(summary.startedAt, summary.finishedAt);
  const suite = {
    name: `station ${summary.station}: ${summary.manifest}`,
    tests,
    failures,
    errors: 0,
    skipped: 0,
    time,
    timestamp: summary.startedAt,
    ...(options.hostname !== undefined && { hostname: options.hostname }),
  };
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  out += `<testsuites${attrs({ name: 'posbridge station', tests, failures, errors: 0, time })}>\n`;
  out += `  <testsuite${attrs(suite)}>\n`;
  out += '    <properties>\n';
  for (const [name, value] of [
    ['technician', summary.technician],
    ['station', summary.station],
    ['ended-by', summary.endedBy],
    ['unknown-terminals', summary.unknown.map((u) => `${u.sn}@${u.port}`).join(' ')],
    ...(summary.auditHead !== undefined ? [['audit-head', summary.auditHead] as const] : []),
  ] as const)
    out += `      <property${attrs({ name, value })}/>\n`;
  out += '    </properties>\n';
  for (const row of summary.rows) out += testcase(row);
  out += '  </testsuite>\n</testsuites>\n';
  return out;
}
