/**
 * CSV as RFC 4180 writes it, read the way spreadsheets actually save it (csv-parse does the
 * reading; this module adds what a technician needs from it).
 *
 * The problems it solves: a field may be quoted and then hold commas, quotes (doubled) and line
 * breaks, so a record may span several physical lines and errors must name the line a person
 * sees in an editor (the line where the record starts); records end with CRLF (the RFC), LF (most
 * tools) or a lone CR (old spreadsheets); a blank line is not a record; Excel in many locales
 * separates fields with `;` (and may say so on a first line `sep=;`). A malformed record is
 * reported and skipped, and reading goes on at the next line, so one pass lists every problem of
 * the file. Pure: text in, records and problems out.
 */
import { CsvError, parse } from 'csv-parse/sync';

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvProblem {
  /** 1-based physical line of the record at fault. */
  line: number;
  /** 1-based field number within the record. */
  field: number;
  message: string;
}

export interface CsvResult {
  records: CsvRecord[];
  problems: CsvProblem[];
}

/** The delimiters a manifest may use: Excel writes `;` where the decimal separator is `,`. */
export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

const LINE_BREAK = /\r\n|\n|\r/g;

const MESSAGES: Record<string, string> = {
  INVALID_OPENING_QUOTE:
    'a quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")',
  CSV_INVALID_CLOSING_QUOTE: 'text after the closing quote (a quote inside a quoted field is written "")',
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (a missing ")',
};

export function parseCsv(text: string, delimiter: CsvDelimiter = ','): CsvResult {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  // Offsets are in bytes: csv-parse counts what it consumed in bytes (info.bytes).
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = lineNumbers(bytes);
  let offset = 0;
  while (offset < bytes.length) {
    // The end of the last record read (its line break included).
    let consumed = offset;
    try {
      parse(bytes.subarray(offset), {
        delimiter,
        record_delimiter: ['\r\n', '\n', '\r'],
        relax_column_count: true,
        skip_empty_lines: true,
        // The context's `bytes`: what csv-parse consumed, this record's line break included.
        on_record: (record, context) => {
          records.push({ line: lineAt(afterBreaks(bytes, consumed)), fields: record });
          consumed = offset + context.bytes;
          return null;
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      const start = afterBreaks(bytes, consumed);
      const index = typeof error.index === 'number' ? error.index : 0;
      problems.push({
        line: lineAt(start),
        field: index + 1,
        message: MESSAGES[error.code] ?? error.message,
      });
      // An unclosed quote swallows the rest of the file: nothing after it can be read as meant.
      if (error.code === 'CSV_QUOTE_NOT_CLOSED') break;
      offset = endOfLine(bytes, start);
    }
  }
  return { records, problems };
}

/**
 * The delimiter of a CSV text and the text to parse: Excel's `sep=X` first line names it (the
 * line is then blanked, keeping line numbers); otherwise the one of `,` `;` tab that splits the
 * header line into the most `known` column names (then the most fields; `,` on a tie).
 */
export function detectDelimiter(
  text: string,
  known: readonly string[],
): { delimiter: CsvDelimiter; text: string } {
  const sep = /^sep=(.)(\r\n|\n|\r|$)/i.exec(text);
  const named = CSV_DELIMITERS.find((d) => d === sep?.[1]);
  if (sep && named) return { delimiter: named, text: text.slice(sep[0].length - sep[2]!.length) };
  const header = text.split(LINE_BREAK, 1)[0] ?? '';
  const score = (d: CsvDelimiter) => {
    const names = header.split(d).map((n) => n.trim().replace(/^"|"$/g, '').toLowerCase());
    return names.filter((n) => known.includes(n)).length * 1000 + names.length;
  };
  let best: CsvDelimiter = ',';
  for (const d of CSV_DELIMITERS) if (score(d) > score(best)) best = d;
  return { delimiter: best, text };
}

const CR = 0x0d;
const LF = 0x0a;

/** Maps a byte offset to its 1-based line (CRLF, LF and a lone CR each end a line). */
function lineNumbers(bytes: Uint8Array): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF) continue;
    if (bytes[i] === CR || bytes[i] === LF) starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** The offset past the blank lines that start at `offset` (csv-parse skips them). */
function afterBreaks(bytes: Uint8Array, offset: number): number {
  let i = offset;
  while (bytes[i] === CR || bytes[i] === LF) i++;
  return i;
}

/** The offset just after the line break that ends the line holding `offset` (or the end). */
function endOfLine(bytes: Uint8Array, offset: number): number {
  let i = offset;
  while (i < bytes.length && bytes[i] !== CR && bytes[i] !== LF) i++;
  if (bytes[i] === CR && bytes[i + 1] === LF) return i + 2;
  return Math.min(i + 1, bytes.length);
}
