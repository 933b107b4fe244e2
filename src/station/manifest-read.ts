/**
 * From a manifest's bytes to candidate rows, before validation: UTF-8 text (a file that is not
 * is one problem naming its line), a CSV with its header row (`,`, or `;` or a tab as
 * spreadsheets write them in many locales) or a JSON array of row objects. An empty CSV cell, and
 * `""` or null for an optional JSON field, read as absent. Problems are collected, not thrown.
 */
import { detectDelimiter, parseCsv } from './csv.js';

export const MANIFEST_FIELDS = ['sn', 'merchant', 'terminal', 'name', 'profile'] as const;
export type ManifestField = (typeof MANIFEST_FIELDS)[number];
const REQUIRED_FIELDS: readonly ManifestField[] = ['sn', 'merchant', 'terminal'];

export interface ManifestProblem {
  file: string;
  /** `line 3`, `row 3`, or `file` for a problem of the whole file. */
  where: string;
  /** The column or key, or `(row)` when the problem is the row itself. */
  field: string;
  message: string;
}

export interface Candidate {
  where: string;
  values: Record<string, unknown>;
}

export function decodeText(content: string | Uint8Array, file: string): string | ManifestProblem {
  if (typeof content === 'string') return content;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    const loose = new TextDecoder('utf-8').decode(content);
    const at = loose.indexOf('\uFFFD');
    const line = loose.slice(0, at).split('\n').length;
    return {
      file,
      where: `line ${line}`,
      field: '(text)',
      message: 'is not UTF-8 text (save the file as "CSV UTF-8" or UTF-8 JSON)',
    };
  }
}

export function csvRows(content: string, file: string, problems: ManifestProblem[]): Candidate[] {
  // Excel writes `;` between fields in locales whose decimal separator is `,`.
  const { delimiter, text } = detectDelimiter(content, MANIFEST_FIELDS);
  const { records, problems: csvProblems } = parseCsv(text, delimiter);
  const [header, ...body] = records;
  if (!header) {
    for (const p of csvProblems)
      problems.push({ file, where: `line ${p.line}`, field: `field ${p.field}`, message: p.message });
    return [];
  }
  const names = header.fields.map((name) => name.trim().toLowerCase());
  for (const p of csvProblems)
    problems.push({
      file,
      where: `line ${p.line}`,
      field: p.line === header.line ? `field ${p.field}` : (names[p.field - 1] ?? `field ${p.field}`),
      message: p.message,
    });
  let headerOk = true;
  names.forEach((name, index) => {
    const raw = header.fields[index] ?? '';
    if (!(MANIFEST_FIELDS as readonly string[]).includes(name)) {
      headerOk = false;
      problems.push({
        file,
        where: `line ${header.line}`,
        field: raw === '' ? `column ${index + 1}` : raw,
        message: `unknown column (the header row names the columns: ${MANIFEST_FIELDS.join(', ')})`,
      });
    } else if (names.indexOf(name) !== index) {
      headerOk = false;
      problems.push({ file, where: `line ${header.line}`, field: name, message: 'column named twice' });
    }
  });
  for (const required of REQUIRED_FIELDS) {
    if (!names.includes(required)) {
      headerOk = false;
      problems.push({
        file,
        where: `line ${header.line}`,
        field: required,
        message: `required column missing from the header row (${MANIFEST_FIELDS.join(',')})`,
      });
    }
  }
  if (!headerOk) return [];
  const candidates: Candidate[] = [];
  for (const record of body) {
    const where = `line ${record.line}`;
    if (record.fields.length !== names.length) {
      const field =
        record.fields.length < names.length
          ? names.slice(record.fields.length).join(', ')
          : `field ${names.length + 1}`;
      problems.push({
        file,
        where,
        field,
        message:
          record.fields.length < names.length
            ? `missing: the row has ${record.fields.length} fields, the header ${names.length} (leave a field empty with ,,)`
            : `extra field: the row has ${record.fields.length} fields, the header ${names.length} (quote a value that holds a comma)`,
      });
      continue;
    }
    const values: Record<string, unknown> = {};
    names.forEach((name, index) => {
      const value = record.fields[index]!;
      // An empty cell is an absent value: required ones are then reported missing.
      if (value !== '') values[name] = value;
    });
    candidates.push({ where, values });
  }
  return candidates;
}

export function jsonRows(text: string, file: string, problems: ManifestProblem[]): Candidate[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    problems.push({
      file,
      where: line === undefined ? 'file' : `line ${line}`,
      field: '(json)',
      message: `is not valid JSON: ${(error as Error).message}`,
    });
    return [];
  }
  if (!Array.isArray(data)) {
    problems.push({
      file,
      where: 'file',
      field: '(top level)',
      message: 'must be an array of rows: [{"sn": "...", "merchant": "...", "terminal": "..."}, ...]',
    });
    return [];
  }
  const candidates: Candidate[] = [];
  data.forEach((item, index) => {
    const where = `row ${index + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({
        file,
        where,
        field: '(row)',
        message: 'must be an object with sn, merchant, terminal',
      });
      return;
    }
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      // `""` and null for the optional fields read as absent, as an empty CSV cell does.
      if ((value === '' || value === null) && (key === 'name' || key === 'profile')) continue;
      values[key] = value;
    }
    candidates.push({ where, values });
  });
  return candidates;
}
