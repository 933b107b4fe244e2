/**
 * JUnit XML for CI: one test case per manifest row, failures for failed, quarantined, not seen and
 * not run rows, port and numbers as `key: value` lines of the case's system-out; every text
 * escaped, read back with a strict XML parser and validated with xmllint against the Jenkins
 * JUnit schema (test/fixtures/jenkins-junit-4.xsd), so a report a CI server would reject fails
 * here first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeXml, renderJunit } from '../../src/station/junit.js';
import type { StationRowResult, StationSummary } from '../../src/station/station.js';
import { requireTool } from '../support/tools.js';
import { junitCaseFields, parseXml, type XmlElement } from './station-xml.helper.js';

const SCHEMA = join(import.meta.dirname, '../fixtures/jenkins-junit-4.xsd');

/** xmllint's verdict on `xml` against the Jenkins JUnit schema: its exit status and messages. */
function validate(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'posbridge-junit-'));
  try {
    writeFileSync(join(dir, 'station.xml'), xml);
    const run = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, join(dir, 'station.xml')], {
      encoding: 'utf8',
    });
    return { status: run.status, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-01T10:00:02.500Z';

function row(extra: Partial<StationRowResult> & Pick<StationRowResult, 'sn' | 'outcome'>): StationRowResult {
  return { where: 'line 2', merchant: '822100052110023', terminal: '10000001', attempts: 1, ...extra };
}

const SUMMARY: StationSummary = {
  kind: 'station',
  manifest: 'shops & stores.csv',
  technician: 'tech',
  station: 'bench-1',
  startedAt: T0,
  finishedAt: T1,
  endedBy: 'idle',
  counts: {
    provisioned: 1,
    'already-provisioned': 1,
    failed: 1,
    quarantined: 1,
    'not-seen': 1,
    'not-run': 0,
  },
  rows: [
    row({
      sn: 'PB001',
      outcome: 'provisioned',
      port: 'mock://a?sn=PB001&x=1',
      name: `Bob's "Noodles" <& Co>`,
      diagnostics: { pass: 12, warn: 0, fail: 0 },
      startedAt: T0,
      finishedAt: T1,
      auditHead: `9:${'a'.repeat(64)}`,
      report: {
        kind: 'provision',
        outcome: 'provisioned',
        port: 'mock://a',
        technician: 'tech',
        station: 'bench-1',
        merchant: '822100052110023',
        terminalNumber: '10000001',
        startedAt: T0,
        finishedAt: T1,
        steps: [
          {
            step: 'identify',
            outcome: 'done',
            detail: 'PB-MOCK sn PB001 <factory>',
            startedAt: T0,
            finishedAt: T0,
          },
          { step: 'bind', outcome: 'done', detail: 'merchant bound', startedAt: T0, finishedAt: T1 },
        ],
      },
    }),
    row({ sn: 'PB002', outcome: 'already-provisioned', port: 'mock://b', terminal: '10000002' }),
    row({
      sn: 'PB003',
      outcome: 'failed',
      port: 'mock://c',
      terminal: '10000003',
      diagnostics: { pass: 11, warn: 0, fail: 1 },
      error: {
        code: 'CHECK_FAILED',
        message: 'diagnostics failed: printer paper_out ("Load paper" & <close> the cover)\nline two\u0001',
        hint: 'load paper',
      },
    }),
    row({
      sn: 'PB004',
      outcome: 'quarantined',
      port: 'mock://d',
      terminal: '10000004',
      error: { code: 'TAMPERED', message: 'tamper=1' },
      auditHead: `17:${'b'.repeat(64)}`,
    }),
    row({
      sn: 'PB005',
      outcome: 'not-seen',
      terminal: '10000005',
      attempts: 0,
      error: { code: 'NOT_SEEN', message: 'not seen' },
    }),
  ],
  unknown: [{ port: 'mock://x', sn: 'ZZ9' }],
  unidentified: [],
  auditHead: `17:${'b'.repeat(64)}`,
};

describe('escapeXml', () => {
  it('escapes markup, quotes and whitespace in attributes, and replaces what XML cannot carry', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe(`a&lt;b&gt;&amp;"c'`);
    expect(escapeXml(`a<b>&"c'\n\t`, true)).toBe('a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;');
    expect(escapeXml('x\u0000y\u001bz\uFFFE\uD800')).toBe('x\uFFFDy\uFFFDz\uFFFD\uFFFD');
    expect(escapeXml('面 😀')).toBe('面 😀');
  });
});

describe('renderJunit', () => {
  const xml = renderJunit(SUMMARY, { hostname: 'bench-host' });
  const root = parseXml(xml);
  const suite = root.children[0]!;
  const cases = suite.children.filter((c) => c.name === 'testcase');
  const props = junitCaseFields;

  it.skipIf(!requireTool('xmllint', 'libxml2-utils'))(
    'validates against the Jenkins JUnit schema (xmllint --schema)',
    () => {
      expect(validate(xml)).toEqual({ status: 0, stderr: expect.stringMatching(/validates$/m) });
      const { auditHead: _, ...unrecorded } = SUMMARY;
      expect(validate(renderJunit({ ...unrecorded, rows: [] })).status).toBe(0);
    },
  );

  it.skipIf(!requireTool('xmllint', 'libxml2-utils'))(
    'the schema check does refuse properties inside a testcase (the form CI servers reject)',
    () => {
      const withCaseProperties = xml.replace(
        '<testcase classname="station" name="PB002"',
        '<testcase classname="station" name="PB002"><properties><property name="port" value="x"/></properties></testcase>\n    <testcase classname="station" name="PB002b"',
      );
      expect(withCaseProperties).not.toBe(xml);
      const run = validate(withCaseProperties);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/properties.*not expected/);
    },
  );

  it('puts no properties inside a testcase', () => {
    for (const c of cases) expect(c.children.map((x) => x.name)).not.toContain('properties');
  });

  it('is well-formed, with the counts on testsuites and testsuite', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '5', failures: '3', errors: '0', time: '2.500' });
    expect(suite.name).toBe('testsuite');
    expect(suite.attrs).toMatchObject({
      name: 'station bench-1: shops & stores.csv',
      tests: '5',
      failures: '3',
      errors: '0',
      skipped: '0',
      timestamp: T0,
      hostname: 'bench-host',
    });
  });

  it('has one test case per manifest row, classname station and name the serial number', () => {
    expect(cases.map((c) => [c.attrs.classname, c.attrs.name])).toEqual([
      ['station', 'PB001'],
      ['station', 'PB002'],
      ['station', 'PB003'],
      ['station', 'PB004'],
      ['station', 'PB005'],
    ]);
    expect(cases[0]!.attrs.time).toBe('2.500');
  });

  it('carries port, merchant and terminal (and the name) in system-out, escaped and read back intact', () => {
    expect(props(cases[0]!)).toMatchObject({
      port: 'mock://a?sn=PB001&x=1',
      merchant: '822100052110023',
      terminal: '10000001',
      name: `Bob's "Noodles" <& Co>`,
      outcome: 'provisioned',
      diagnostics: '12 pass, 0 warn, 0 fail',
    });
    expect(props(cases[4]!)).toMatchObject({ port: '', terminal: '10000005', outcome: 'not-seen' });
  });

  it('carries the audit heads: the run as a suite property, each recorded row in its case', () => {
    const suiteProps = Object.fromEntries(
      suite.children.find((x) => x.name === 'properties')!.children.map((p) => [p.attrs.name, p.attrs.value]),
    );
    expect(suiteProps['audit-head']).toBe(`17:${'b'.repeat(64)}`);
    expect(props(cases[0]!)['audit-head']).toBe(`9:${'a'.repeat(64)}`);
    expect(props(cases[3]!)['audit-head']).toBe(`17:${'b'.repeat(64)}`);
    expect(props(cases[4]!)).not.toHaveProperty('audit-head'); // never run: nothing recorded
    const { auditHead: _, ...unrecorded } = SUMMARY;
    const none = parseXml(renderJunit(unrecorded));
    const noneProps = none.children[0]!.children.find((x) => x.name === 'properties')!.children;
    expect(noneProps.map((p) => p.attrs.name)).not.toContain('audit-head');
  });

  it('fails the failed, quarantined and not-seen rows with their message; passes the others', () => {
    const failure = (c: XmlElement) => c.children.find((x) => x.name === 'failure');
    expect(failure(cases[0]!)).toBeUndefined();
    expect(failure(cases[1]!)).toBeUndefined();
    expect(failure(cases[2]!)!.attrs).toEqual({
      // the newline survives as a character reference; the control character cannot be in XML
      message: 'diagnostics failed: printer paper_out ("Load paper" & <close> the cover)\nline two\uFFFD',
      type: 'failed',
    });
    expect(failure(cases[2]!)!.text).toBe('CHECK_FAILED\nwhat to do: load paper');
    expect(failure(cases[3]!)!.attrs).toEqual({ message: 'tamper=1', type: 'quarantined' });
    expect(failure(cases[4]!)!.attrs).toEqual({ message: 'not seen', type: 'not-seen' });
  });

  it('puts the steps in system-out, after the facts and a blank line', () => {
    const out = cases[0]!.children.find((x) => x.name === 'system-out');
    expect(out?.text.split('\n\n')[1]).toBe(
      'identify done: PB-MOCK sn PB001 <factory>\nbind done: merchant bound',
    );
  });

  it('the strict parser used here does reject what is not well-formed', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/expected <\/b>/);
    expect(() => parseXml('<a x="1 < 2"/>')).toThrow(/bad attribute/);
    expect(() => parseXml('<a>1 & 2</a>')).toThrow(/raw &/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/forbidden/);
  });
});
