/**
 * CSV as RFC 4180 writes it, read the way spreadsheets actually save it.
 *
 * The problems it solves: a field may be quoted and then hold commas, quotes (doubled) and line
 * breaks, so a record may span several physical lines and errors must name the line a person
 * sees in an editor (the line where the record starts, or where the fault is); records end with
 * CRLF (the RFC), LF (most tools) or a lone CR (old spreadsheets); a blank line is not a record.
 * A malformed record is reported and skipped, so one pass lists every problem of the file.
 * Pure: text in, records and problems out.
 */

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvProblem {
  /** 1-based physical line of the fault. */
  line: number;
  /** 1-based field number within the record. */
  field: number;
  message: string;
}

export interface CsvResult {
  records: CsvRecord[];
  problems: CsvProblem[];
}

export function parseCsv(text: string): CsvResult {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;

  /** Consumes a line break at i (CRLF, LF or CR); returns whether there was one. */
  const lineBreak = (): boolean => {
    if (text[i] === '\r') {
      i += text[i + 1] === '\n' ? 2 : 1;
      line++;
      return true;
    }
    if (text[i] === '\n') {
      i++;
      line++;
      return true;
    }
    return false;
  };

  /** After a fault: drop the rest of the physical line. */
  const skipLine = (): void => {
    while (i < n && text[i] !== '\r' && text[i] !== '\n') i++;
    lineBreak();
  };

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let bad = false;
    let quotedSeen = false;
    for (;;) {
      const fieldNumber = fields.length + 1;
      if (text[i] === '"') {
        quotedSeen = true;
        const openedAt = line;
        i++;
        let value = '';
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\r' || c === '\n') {
            value += c === '\r' && text[i + 1] === '\n' ? '\r\n' : c;
            lineBreak();
            continue;
          }
          value += c;
          i++;
        }
        if (!closed) {
          problems.push({
            line: openedAt,
            field: fieldNumber,
            message: 'a quoted field is never closed (a missing ")',
          });
          return { records, problems };
        }
        fields.push(value);
        if (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          problems.push({
            line,
            field: fieldNumber,
            message: 'text after the closing quote (a quote inside a quoted field is written "")',
          });
          bad = true;
          skipLine();
          break;
        }
      } else {
        let value = '';
        while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') value += text[i++];
        if (value.includes('"')) {
          problems.push({
            line,
            field: fieldNumber,
            message:
              'a quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")',
          });
          bad = true;
          skipLine();
          break;
        }
        fields.push(value);
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      lineBreak();
      break;
    }
    if (bad) continue;
    // A blank line (one empty unquoted field) is no record; `""` on a line is one empty field.
    if (fields.length === 1 && fields[0] === '' && !quotedSeen) continue;
    records.push({ line: start, fields });
  }
  return { records, problems };
}
