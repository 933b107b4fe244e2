/** Report output: RFC 4180 CSV and JSON. */
import { describe, expect, it } from 'vitest';
import { type AuditReportRow, REPORT_COLUMNS, toCsv, toJson } from '../../src/audit/index.js';

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

describe('toCsv', () => {
  it('writes a header and one CRLF-terminated record per row', () => {
    const csv = toCsv([]);
    expect(csv).toBe(`${REPORT_COLUMNS.join(',')}\r\n`);
  });

  it('quotes commas, double quotes and line breaks; keeps UTF-8; empties nulls', () => {
    const csv = toCsv([row]);
    const line = csv.split('\r\n')[1];
    expect(line).toBe(
      `r1,SN1,T100,123456789012345,12345678,"Zoë ""Z"" Müller, Jr.","收银台\n2号",2025-03-01T08:00:00.000Z,,unfinished,11,0,,7:${'ab'.repeat(32)}`,
    );
    expect(parseCsv(csv)).toEqual([
      [...REPORT_COLUMNS],
      [
        'r1',
        'SN1',
        'T100',
        '123456789012345',
        '12345678',
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
    const csv = toCsv([{ a: 'x\ry', b: '"' }], ['a', 'b']);
    expect(csv).toBe('a,b\r\n"x\ry",""""\r\n');
    expect(parseCsv(csv)).toEqual([
      ['a', 'b'],
      ['x\ry', '"'],
    ]);
  });

  it('adds a byte order mark on request', () => {
    expect(toCsv([], ['a'], { bom: true })).toBe('\uFEFFa\r\n');
  });
});

describe('toJson', () => {
  it('writes an array that parses back to the rows', () => {
    const text = toJson([row]);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual([row]);
  });
});
