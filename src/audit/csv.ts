/**
 * Report output: CSV as RFC 4180 writes it (fields separated by commas, records ended by CRLF, a
 * header record first; a field holding a comma, a double quote, CR or LF is enclosed in double
 * quotes, and a double quote inside it is doubled) and JSON. Text stays UTF-8 as is.
 *
 * Not done: neutralising spreadsheet formulas (a field starting with `=`, `+`, `-`, `@`). It would
 * change the data; whoever opens the file in a spreadsheet should import it as text.
 */
import { type AuditReportRow, REPORT_COLUMNS } from './types.js';

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvOptions {
  /** Start with a UTF-8 byte order mark (some spreadsheets need it to read UTF-8). Default false. */
  bom?: boolean;
}

/** Rows as CSV, a header first; `columns` picks and orders the fields (default: the report's). */
export function toCsv<T extends object = AuditReportRow>(
  rows: readonly T[],
  columns: readonly string[] = REPORT_COLUMNS,
  options: CsvOptions = {},
): string {
  const lines = [columns.map(field).join(',')];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    lines.push(columns.map((c) => field(record[c])).join(','));
  }
  return `${options.bom ? '\uFEFF' : ''}${lines.map((l) => `${l}\r\n`).join('')}`;
}

/** Rows as one JSON document (an array), indented, ending with a newline. */
export function toJson(rows: readonly object[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
