/**
 * The suite against docs/protocol.md itself: what it expects (spec.ts) is what the document's
 * tables say, every check cites sections, decisions and examples that exist, and the revision a
 * report names is the document's. The suite does not read src/protocol's tables (they drive the
 * mock), so this is what keeps its own transcription honest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS, GROUP_RULES, GROUPS, SPEC, selectChecks } from '../../src/conformance/index.js';
import {
  CAPS,
  DIAG_CHECKS,
  FACTORY_SETTINGS,
  KNOWN_DEFAULTS,
  SLUG_CODES,
  STATUS_FIELDS,
} from '../../src/conformance/spec.js';
import { REPO_ROOT } from '../support/cli-process.js';

const doc = readFileSync(join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
const section = (heading: string) => {
  const start = doc.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + heading.length);
  return doc.slice(start, end < 0 ? undefined : end);
};
/** The rows of the markdown tables in `text`, cells trimmed. */
const rows = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| --') && !l.startsWith('| -'))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
const code = (cell: string) => cell.replace(/^`|`$/g, '');

describe('docs/conformance.md against the suite', () => {
  it('names every group with its number of checks, and the total', () => {
    const guide = readFileSync(join(REPO_ROOT, 'docs', 'conformance.md'), 'utf8');
    for (const group of GROUPS)
      expect(guide, group).toContain(`| \`${group}\` | ${selectChecks([group]).length} |`);
    expect(guide).toContain(`${ALL_CHECKS.length} checks in ${GROUPS.length} groups`);
    expect(guide).toContain(`all ${ALL_CHECKS.length} checks passed`);
  });
});

describe('the suite against docs/protocol.md', () => {
  it('names the revision of the document: its last decision and its last worked example', () => {
    const decisions = [...doc.matchAll(/^- \*\*D([0-9]+)\.\*\*/gm)].map((m) => Number(m[1]));
    const examples = [...doc.matchAll(/^#### Example ([0-9]+):/gm)].map((m) => Number(m[1]));
    expect(SPEC.revision).toBe(
      `Decisions D1-D${Math.max(...decisions)}, worked examples 1-${Math.max(...examples)}`,
    );
    expect(SPEC.protocol).toBe('TSP/1');
    expect(doc.startsWith('# TSP/1: Terminal Service Protocol, version 1')).toBe(true);
  });

  it('§11: every slug with its code', () => {
    const table = rows(section('## 11. Error codes')).slice(1);
    const fromDoc: Record<string, number> = {};
    for (const [codeCell, slugs] of table)
      for (const slug of slugs!.split(',').map((s) => code(s.trim()))) fromDoc[slug] = Number(codeCell);
    expect(SLUG_CODES).toEqual(fromDoc);
  });

  it('§16: every setting and its factory value', () => {
    const table = rows(section('## 16. Settings')).slice(1);
    const fromDoc = Object.fromEntries(
      table.map(([key, , factory]) => [code(key!), code(factory!).replace(/^""$/, '')]),
    );
    expect(FACTORY_SETTINGS).toEqual(fromDoc);
  });

  it('§17: the checks in their default order, each code with its status', () => {
    const table = rows(section('## 17. Diagnostics')).slice(1);
    const fromDoc: Array<[string, Record<string, string>]> = [];
    for (const [check, , codeCell, status] of table) {
      if (check !== '') fromDoc.push([code(check!), {}]);
      fromDoc.at(-1)![1][code(codeCell!)] = status!;
    }
    expect(DIAG_CHECKS).toEqual(fromDoc);
  });

  it('§15 HELLO caps, STATUS fields (D18), §14 the known defaults', () => {
    expect(section('### HELLO')).toContain(`\`caps\` lists exactly \`${CAPS}\``);
    const d18 = `STATUS fields, in order: \`${STATUS_FIELDS.slice(0, 4).join(' ')} [${STATUS_FIELDS[4]}] ${STATUS_FIELDS.slice(5, 7).join(' ')} [${STATUS_FIELDS.slice(7).join(' ')}]\``;
    expect(doc.replace(/\s+/g, ' ').includes(d18), d18).toBe(true);
    expect(section('## 14. Password policy')).toContain(KNOWN_DEFAULTS.map((p) => `\`${p}\``).join(', '));
  });

  it('every check cites sections, decisions and examples that exist', () => {
    const headings = new Set([...doc.matchAll(/^#{2,3} ([0-9]+(?:\.[0-9]+)?)[. ]/gm)].map((m) => m[1]));
    const commands = new Set([...section('## 15. Commands').matchAll(/^### ([A-Z-]+)$/gm)].map((m) => m[1]));
    for (const c of ALL_CHECKS) {
      for (const m of c.section.matchAll(/§([0-9]+(?:\.[0-9]+)?)(?: ([A-Z][A-Z-]+)(?![a-z]))?/g)) {
        expect(headings.has(m[1]), `${c.id}: §${m[1]}`).toBe(true);
        if (m[1] === '15' && m[2]) expect(commands.has(m[2]), `${c.id}: §15 ${m[2]}`).toBe(true);
      }
      for (const m of c.section.matchAll(/\bD([0-9]+)\b/g))
        expect(doc, `${c.id}: D${m[1]}`).toContain(`**D${m[1]}.**`);
      for (const m of c.section.matchAll(/examples? ([0-9]+)(?: and ([0-9]+))?/g))
        for (const n of [m[1], m[2]].filter(Boolean))
          expect(doc, `${c.id}: example ${n}`).toMatch(new RegExp(`^#### Example ${n}:`, 'm'));
      expect(c.section, c.id).toMatch(/§|D[0-9]/);
    }
  });

  it('check IDs are unique and stable (group.name); every group has checks, in run order', () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of ALL_CHECKS) expect(c.id).toMatch(new RegExp(`^${c.group}\\.[a-z0-9.-]+$`));
    for (const group of GROUPS) expect(selectChecks([group]).length, group).toBeGreaterThan(0);
    expect(ALL_CHECKS.map((c) => GROUPS.indexOf(c.group))).toEqual(
      [...ALL_CHECKS.map((c) => GROUPS.indexOf(c.group))].sort((a, b) => a - b),
    );
    expect(selectChecks(['auth', 'lockout']).every((c) => c.group === 'auth' || c.group === 'lockout')).toBe(
      true,
    );
    expect(Object.keys(GROUP_RULES)).toEqual([...GROUPS]);
  });
});
