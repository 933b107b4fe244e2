/** Report output: RFC 4180 CSV made for spreadsheets (no formula runs, no number loses a digit) and JSON. */

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  type AuditReportRow,
  REPORT_COLUMNS,
  spreadsheetText,
  toCsv,
  toJson,
} from '../../src/audit/index.js';
import { WORD_JOINER as WJ } from '../support/constants.js';

/** A strict RFC 4180 reader, to check that what toCsv writes reads back to the same fields. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += text[i];
        i += 1;
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        value += text[i];
        i += 1;
      }
    }
    record.push(value);
    if (text[i] === ',') {
      i += 1;
    } else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else {
      throw new Error(`expected , or CRLF at ${i}`);
    }
  }
  return records;
}

const row: AuditReportRow = {
  runId: 'r1',
  sn: 'SN1',
  model: 'T100',
  port: '/dev/ttyACM0',
  merchant: '123456789012345',
  terminal: '12345678',
  technician: 'Zoë "Z" Müller, Jr.',
  station: '收银台\n2号',
  started: '2025-03-01T08:00:00.000Z',
  finished: null,
  outcome: 'unfinished',
  diagPass: 11,
  diagWarn: 0,
  diagFail: null,
  auditHead: `7:${'ab'.repeat(32)}`,
};

const BOM = '\uFEFF';

describe('toCsv', () => {
  it('writes a byte order mark, a header and one CRLF-terminated record per row', () => {
    const csv = toCsv([]);
    expect(csv).toBe(`${BOM}${REPORT_COLUMNS.join(',')}\r\n`);
    expect(toCsv([], ['a'], { bom: false })).toBe('a\r\n');
  });

  it('quotes commas, double quotes and line breaks; keeps UTF-8; empties nulls', () => {
    const csv = toCsv([row]);
    const line = csv.split('\r\n')[1];
    expect(line).toBe(
      `r1,SN1,T100,/dev/ttyACM0,${WJ}123456789012345,${WJ}12345678,"Zoë ""Z"" Müller, Jr.","收银台\n2号",2025-03-01T08:00:00.000Z,,unfinished,11,0,,7:${'ab'.repeat(32)}`,
    );
    expect(parseCsv(csv.slice(1))).toEqual([
      [...REPORT_COLUMNS],
      [
        'r1',
        'SN1',
        'T100',
        '/dev/ttyACM0',
        `${WJ}123456789012345`,
        `${WJ}12345678`,
        'Zoë "Z" Müller, Jr.',
        '收银台\n2号',
        '2025-03-01T08:00:00.000Z',
        '',
        'unfinished',
        '11',
        '0',
        '',
        `7:${'ab'.repeat(32)}`,
      ],
    ]);
  });

  it('quotes a lone CR and a field that is only a quote', () => {
    const csv = toCsv([{ a: 'x\ry', b: '"' }], ['a', 'b'], { bom: false });
    expect(csv).toBe('a,b\r\n"x\ry",""""\r\n');
    expect(parseCsv(csv)).toEqual([
      ['a', 'b'],
      ['x\ry', '"'],
    ]);
  });

  it('writes a cell a spreadsheet would run as a formula with a leading quote (=, +, -, @, tab, CR)', () => {
    const cells = ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '=1'];
    const columns = cells.map((_, i) => `c${i}`);
    const csv = toCsv([Object.fromEntries(cells.map((c, i) => [`c${i}`, c]))], columns, { bom: false });
    expect(parseCsv(csv)[1]).toEqual(cells.map((c) => `'${c}`));
  });

  it('makes a text cell that reads as a number text with an invisible WORD JOINER (leading zeros kept)', () => {
    expect(spreadsheetText('012345678901234')).toBe(`${WJ}012345678901234`);
    expect(spreadsheetText('00001234')).toBe(`${WJ}00001234`);
    expect(spreadsheetText('822100052110023')).toBe(`${WJ}822100052110023`);
    expect(spreadsheetText('1.50')).toBe(`${WJ}1.50`);
    expect(spreadsheetText('1e5')).toBe(`${WJ}1e5`);
    for (const text of ['', 'PBM0000001', 'SN-0012', '2025-03-01T08:00:00.000Z', 'Café 12']) {
      expect(spreadsheetText(text)).toBe(text);
    }
    // Numbers stay numbers (diagnostics counts).
    expect(toCsv([{ n: 7, s: '7' }], ['n', 's'], { bom: false })).toBe(`n,s\r\n7,${WJ}7\r\n`);
  });

  it('applies the text transform to every text cell before the spreadsheet rules', () => {
    const csv = toCsv([{ a: '\u001b]0;x\u0007', b: '=1' }], ['a', 'b'], {
      bom: false,
      text: (t) => t.replace(/\u001b/g, '\\x1b').replace(/\u0007/g, '\\x07'),
    });
    expect(csv).toBe("a,b\r\n\\x1b]0;x\\x07,'=1\r\n");
  });

  it('reads back with csv-parse to the same cells (the quoting is RFC 4180)', () => {
    const records = parse(toCsv([row]), { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(records[1]![REPORT_COLUMNS.indexOf('technician')]).toBe('Zoë "Z" Müller, Jr.');
    expect(records[1]![REPORT_COLUMNS.indexOf('station')]).toBe('收银台\n2号');
  });
});

describe('toJson', () => {
  it('writes an array that parses back to the rows', () => {
    const text = toJson([row]);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual([row]);
  });
});
