/**
 * The station manifest: which terminal (by serial number) gets which merchant and terminal number,
 * merchant name and profile. A CSV file (header row `sn,merchant,terminal,name,profile`, columns
 * in any order, `name` and `profile` optional; fields separated by `,`, or by `;` or a tab as
 * spreadsheets write them in many locales, told apart by the header row) or a JSON array of row
 * objects; UTF-8, a BOM is tolerated (read by manifest-read.ts). Everything is validated before
 * any terminal is touched, profiles included (each distinct file read once), and every problem of
 * the file is reported at once, each naming the file, the line (CSV) or row (JSON) and the field,
 * so a technician fixes the sheet in one go.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { PosbridgeError } from '../host/errors.js';
import { DEFAULT_PROFILE, type Profile } from '../host/workflow/profile.js';
import { loadProfile } from '../host/workflow/profile-file.js';
import { identityProblem, isTextWithin, MERCHANT_NUMBER, TERMINAL_NUMBER } from '../protocol/index.js';
import {
  type Candidate,
  csvRows,
  decodeText,
  jsonRows,
  MANIFEST_FIELDS,
  type ManifestProblem,
} from './manifest-read.js';

export { MANIFEST_FIELDS, type ManifestField, type ManifestProblem } from './manifest-read.js';

export interface ManifestRow {
  /** The terminal's serial number, as HELLO `sn=` gives it (compared exactly). */
  sn: string;
  merchant: string;
  terminal: string;
  name?: string;
  /** The profile file as the manifest names it (relative to the manifest's directory). */
  profilePath?: string;
  /** The profile, loaded and validated (the default profile when the row names none). */
  profile: Profile;
  /** Where the row is, for messages: `line 3` (CSV) or `row 3` (JSON, counted from 1). */
  where: string;
  /** 0-based position in the manifest. */
  index: number;
}

export interface Manifest {
  path: string;
  format: 'csv' | 'json';
  rows: ManifestRow[];
}

/** A manifest that cannot be used: every problem found, each naming file, line/row and field. */
export class ManifestError extends PosbridgeError {
  override name = 'ManifestError';

  constructor(
    readonly file: string,
    readonly problems: ManifestProblem[],
  ) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map(formatProblem);
    const more = problems.length > shown.length ? [`... and ${problems.length - shown.length} more`] : [];
    const head =
      problems.length === 1
        ? `manifest ${file} is invalid: ${shown[0]}`
        : `manifest ${file} has ${problems.length} problems:\n  ${[...shown, ...more].join('\n  ')}`;
    super('USAGE', head, {
      hint: 'fix the manifest (see docs/station.md); nothing was sent to any terminal',
      details: { problems },
    });
  }
}

const MAX_PROBLEMS_SHOWN = 20;

export function formatProblem(problem: ManifestProblem): string {
  // One problem, one line: a line break inside a quoted cell is shown, not obeyed.
  return `${problem.file} ${problem.where}, ${problem.field}: ${problem.message}`.replace(/[\r\n]/g, (c) =>
    c === '\n' ? '\\x0a' : '\\x0d',
  );
}

const SN_RULE = '1-32 characters of A-Z a-z 0-9 _ . : , + / -';

/** A field that must be text; a JSON number loses leading zeros, so it is refused with that reason. */
function text(what: string) {
  return z.string({
    error: (issue) =>
      issue.input === undefined || issue.input === null
        ? 'is missing'
        : typeof issue.input === 'number'
          ? `must be text in quotes, not the number ${issue.input} (numbers lose leading zeros)`
          : `must be ${what}`,
  });
}

const rowSchema = z
  .object({
    sn: text('the serial number').refine((v) => identityProblem(v) === undefined, `must be ${SN_RULE}`),
    merchant: text('15 digits').regex(MERCHANT_NUMBER, 'must be 15 digits'),
    terminal: text('8 digits').regex(TERMINAL_NUMBER, 'must be 8 digits'),
    name: text('text')
      .refine((v) => isTextWithin(v, 1, 40), 'must be 1 to 40 bytes of UTF-8 text')
      .optional(),
    profile: text('a file path').optional(),
  })
  .strict();

type RawRow = z.output<typeof rowSchema>;

/** A row as validated, before its profile is loaded. */
export interface ParsedRow extends Omit<ManifestRow, 'profile'> {}

export interface ParsedManifest {
  format: 'csv' | 'json';
  rows: ParsedRow[];
  problems: ManifestProblem[];
}

/** Which format: by extension (.csv, .json), else by content (a leading `[` is JSON). */
export function manifestFormat(path: string, text: string): 'csv' | 'json' {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.csv$/i.test(path)) return 'csv';
  return text.trimStart().startsWith('[') ? 'json' : 'csv';
}

/**
 * Parse and validate a manifest's content (no file access, no profile loading). Problems are
 * returned, not thrown, so the caller can add those of the profiles and report them all at once.
 */
export function parseManifest(content: string | Uint8Array, file: string): ParsedManifest {
  const problems: ManifestProblem[] = [];
  const decoded = decodeText(content, file);
  if (typeof decoded !== 'string') return { format: 'csv', rows: [], problems: [decoded] };
  const text = decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded;
  const format = manifestFormat(file, text);
  const candidates = format === 'json' ? jsonRows(text, file, problems) : csvRows(text, file, problems);
  const rows: ParsedRow[] = [];
  for (const candidate of candidates) {
    const row = validateRow(candidate.values, candidate.where, file, problems);
    if (row) rows.push({ ...row, where: candidate.where, index: rows.length });
  }
  checkDuplicates(candidates, file, problems);
  if (candidates.length === 0 && problems.length === 0)
    problems.push({ file, where: 'file', field: '(rows)', message: 'has no rows' });
  return { format, rows, problems: sortProblems(problems) };
}

/** Read, parse, validate and load every profile the manifest names; throws ManifestError. */
export async function loadManifest(
  path: string,
  deps: { loadProfile?: (path: string) => Promise<Profile> } = {},
): Promise<Manifest> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    throw new PosbridgeError(
      'USAGE',
      `cannot read manifest ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { hint: 'check the path given to --manifest' },
    );
  }
  const parsed = parseManifest(content, path);
  const load = deps.loadProfile ?? loadProfile;
  const base = dirname(path);
  const profiles = new Map<string, Promise<Profile | Error>>();
  const rows: ManifestRow[] = [];
  const reported = new Set<string>();
  for (const row of parsed.rows) {
    if (row.profilePath === undefined) {
      rows.push({ ...row, profile: DEFAULT_PROFILE });
      continue;
    }
    const full = resolve(base, row.profilePath);
    let pending = profiles.get(full);
    if (!pending) {
      pending = load(full).catch((error: unknown) => error as Error);
      profiles.set(full, pending);
    }
    const profile = await pending;
    if (profile instanceof Error) {
      // Reported once, at the first row naming the file: the same message on every row is noise.
      if (!reported.has(full)) {
        reported.add(full);
        parsed.problems.push({ file: path, where: row.where, field: 'profile', message: profile.message });
      }
      continue;
    }
    rows.push({ ...row, profile });
  }
  if (parsed.problems.length > 0) throw new ManifestError(path, sortProblems(parsed.problems));
  return { path, format: parsed.format, rows };
}

function validateRow(
  values: Record<string, unknown>,
  where: string,
  file: string,
  problems: ManifestProblem[],
): Omit<ParsedRow, 'where' | 'index'> | undefined {
  const result = rowSchema.safeParse(values);
  if (result.success) return toRow(result.data);
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({
          file,
          where,
          field: key,
          message: `unknown field (known: ${MANIFEST_FIELDS.join(', ')})`,
        });
      continue;
    }
    const field = String(issue.path[0] ?? '(row)');
    const value = values[field];
    problems.push({ file, where, field, message: withValue(issue.message, field, value) });
  }
  return undefined;
}

function toRow(raw: RawRow): Omit<ParsedRow, 'where' | 'index'> {
  return {
    sn: raw.sn,
    merchant: raw.merchant,
    terminal: raw.terminal,
    ...(raw.name !== undefined && { name: raw.name }),
    ...(raw.profile !== undefined && { profilePath: raw.profile }),
  };
}

/** The message, with the offending value quoted and a hint for a spreadsheet's usual damage. */
function withValue(message: string, field: string, value: unknown): string {
  if (typeof value !== 'string') return message;
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  let out = `${message}, not "${shown}"`;
  if ((field === 'merchant' || field === 'terminal') && /^[0-9.]+e\+?[0-9]+$/i.test(value))
    out += ' (a spreadsheet turned it into a number: format the column as text)';
  else if ((field === 'merchant' || field === 'terminal') && /^[0-9]+$/.test(value))
    out += ` (${value.length} digits; a spreadsheet may have dropped leading zeros: format the column as text)`;
  return out;
}

/**
 * Duplicate serial and terminal numbers, over every row whose value is well-formed (even if
 * another field of the row is bad): fixing one problem must not reveal another on the next run.
 */
function checkDuplicates(candidates: Candidate[], file: string, problems: ManifestProblem[]): void {
  const seen = { sn: new Map<string, string>(), terminal: new Map<string, string>() };
  for (const { values, where } of candidates) {
    const sn = values.sn;
    if (typeof sn === 'string' && identityProblem(sn) === undefined) {
      const other = seen.sn.get(sn);
      if (other)
        problems.push({ file, where, field: 'sn', message: `serial number ${sn} is also on ${other}` });
      else seen.sn.set(sn, where);
    }
    const terminal = values.terminal;
    if (typeof terminal === 'string' && TERMINAL_NUMBER.test(terminal)) {
      const other = seen.terminal.get(terminal);
      if (other)
        problems.push({
          file,
          where,
          field: 'terminal',
          message: `terminal number ${terminal} is also on ${other} (the acquirer issues one per terminal)`,
        });
      else seen.terminal.set(terminal, where);
    }
  }
}

function sortProblems(problems: ManifestProblem[]): ManifestProblem[] {
  const order = (p: ManifestProblem) => Number(/\d+/.exec(p.where)?.[0] ?? 0);
  return [...problems].sort((a, b) => order(a) - order(b));
}
