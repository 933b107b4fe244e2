/**
 * Report output: CSV (csv-stringify: RFC 4180 quoting, CRLF records, a header record first) and
 * JSON. The CSV is made for spreadsheets, which do not read a cell as text:
 *
 * - a cell that starts with `=`, `+`, `-`, `@`, a tab or a CR is run as a formula ("CSV
 *   injection"): it is written with a leading `'` (`'=HYPERLINK(...)`), shown as text;
 * - a text cell that reads as a number (a merchant or terminal number, a serial number of
 *   digits) loses its leading zeros, or turns into 8.22100052110023E+14: it is written with a
 *   WORD JOINER (U+2060, invisible) in front, which makes it text without a formula
 *   (`="0123"` would be one) and without a visible mark (a leading `'` or tab stays in the cell in
 *   LibreOffice). Checked with LibreOffice Calc 7.4 (test/integration/report-libreoffice.test.ts).
 *   Copying such a cell copies the invisible mark too: `--format json` is the form for programs;
 * - the file starts with a UTF-8 byte order mark, without which spreadsheets read it in the
 *   legacy code page of the machine (`Café` as `CafÃ©`).
 */
import { stringify } from 'csv-stringify/sync';
import { type AuditReportRow, REPORT_COLUMNS } from './types.js';

/** Makes a text cell read as text in a spreadsheet; invisible. */
export const TEXT_MARK = '\u2060';

const FORMULA_START = /^[=+\-@\t\r]/;
/** What a spreadsheet reads as a number: digits, a decimal point, an exponent, a percent sign. */
const NUMBER_LIKE = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?%?$/;

/** One text cell as a spreadsheet should show it: never a formula, never a number. */
export function spreadsheetText(text: string): string {
  if (FORMULA_START.test(text)) return `'${text}`;
  if (NUMBER_LIKE.test(text)) return `${TEXT_MARK}${text}`;
  return text;
}

export interface CsvOptions {
  /** Start with a UTF-8 byte order mark. Default true. */
  bom?: boolean;
  /** Applied to every text cell before the spreadsheet rules (the CLI shows control characters). */
  text?: (value: string) => string;
}

/** Rows as CSV, a header first; `columns` picks and orders the fields (default: the report's). */
export function toCsv<T extends object = AuditReportRow>(
  rows: readonly T[],
  columns: readonly string[] = REPORT_COLUMNS,
  options: CsvOptions = {},
): string {
  const text = options.text ?? ((value: string) => value);
  const cell = (value: unknown): string | number => {
    if (value === null || value === undefined) return '';
    // Numbers are numbers (diagnostics counts); everything else is text.
    if (typeof value === 'number') return value;
    return spreadsheetText(text(typeof value === 'object' ? JSON.stringify(value) : String(value)));
  };
  const records = [
    columns.map((c) => spreadsheetText(text(c))),
    ...rows.map((row) => columns.map((c) => cell((row as Record<string, unknown>)[c]))),
  ];
  return stringify(records, {
    bom: options.bom ?? true,
    record_delimiter: 'windows',
    // RFC 4180: a field holding a line break is quoted (csv-stringify quotes only , and " itself).
    quoted_match: /[\r\n]/,
  });
}

/** Rows as one JSON document (an array), indented, ending with a newline. */
export function toJson(rows: readonly object[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
