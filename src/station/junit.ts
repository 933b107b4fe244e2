/**
 * The station summary as JUnit XML for CI: one test case per manifest row (classname `station`,
 * name the serial number), a `failure` for failed, quarantined, not seen and not run rows.
 *
 * It validates against the Jenkins JUnit schema CI servers read (dtkit's junit-4.xsd, vendored as
 * test/fixtures/jenkins-junit-4.xsd; test/unit/station-junit.test.ts runs xmllint on it). The
 * schema allows no `properties` in a `testcase`, so a row's port, numbers, outcome, name,
 * diagnostics and audit head open its `system-out` as `key: value` lines, before its steps; the run's own (technician, station, the
 * run's audit head) are the suite's `properties`. The audit heads go to a CI server, which
 * keeps them outside the bench PC, to check the trail against later.
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

/** A row's facts, as `key: value` lines (one line each: a line break in a value is a space). */
export function rowFields(row: StationRowResult): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['port', row.port ?? ''],
    ['merchant', row.merchant],
    ['terminal', row.terminal],
    ['outcome', row.outcome],
    ['manifest', row.where],
  ];
  if (row.name !== undefined) fields.push(['name', row.name]);
  if (row.diagnostics) {
    const d = row.diagnostics;
    fields.push(['diagnostics', `${d.pass} pass, ${d.warn} warn, ${d.fail} fail`]);
  }
  if (row.auditHead !== undefined) fields.push(['audit-head', row.auditHead]);
  return fields.map(([key, value]) => [key, value.replace(/[\r\n]+/g, ' ')]);
}

function testcase(row: StationRowResult): string {
  let out = `    <testcase${attrs({ classname: 'station', name: row.sn, time: seconds(row.startedAt, row.finishedAt) })}>\n`;
  if (FAILING.has(row.outcome)) {
    const message = row.error?.message ?? row.outcome;
    const body = [row.error?.code, row.error?.hint && `what to do: ${row.error.hint}`]
      .filter(Boolean)
      .join('\n');
    out += `      <failure${attrs({ message, type: row.outcome })}>${escapeXml(body)}</failure>\n`;
  }
  const fields = rowFields(row).map(([key, value]) => `${key}: ${value}`);
  const steps = (row.report?.steps ?? []).map((s) => `${s.step} ${s.outcome}: ${s.detail}`);
  const text = steps.length > 0 ? [...fields, '', ...steps] : fields;
  out += `      <system-out>${escapeXml(text.join('\n'))}</system-out>\n`;
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
