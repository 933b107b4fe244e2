/**
 * The station manifest: RFC 4180 CSV as spreadsheets save it, JSON, validation that names the
 * file, the line/row and the field of every problem at once, duplicates, and profiles loaded up
 * front relative to the manifest.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import { DEFAULT_PROFILE } from '../../src/host/workflow/profile.js';
import { detectDelimiter, parseCsv } from '../../src/station/csv.js';
import {
  loadManifest,
  MANIFEST_FIELDS,
  ManifestError,
  type ManifestProblem,
  parseManifest,
} from '../../src/station/manifest.js';

const M1 = '822100052110023';
const M2 = '822100052110099';

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and numbers records by their first line', () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""",z\r\n"two\r\nlines",2,3\r\nlast,"",\r\n';
    const { records, problems } = parseCsv(text);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'z'] },
      { line: 3, fields: ['two\r\nlines', '2', '3'] },
      { line: 5, fields: ['last', '', ''] },
    ]);
  });

  it('accepts LF and lone CR line ends, a missing final line end, and skips blank lines', () => {
    expect(parseCsv('a,b\n\n1,2\r3,4').records).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
      { line: 4, fields: ['3', '4'] },
    ]);
    // `""` alone on a line is a record of one empty field, not a blank line.
    expect(parseCsv('a\n""\n').records).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: [''] },
    ]);
  });

  it('reports a stray quote and text after a closing quote, with line and field, and goes on', () => {
    const { records, problems } = parseCsv('a,b\n1,x"y\n"q"r,2\n3,4\n');
    expect(problems).toEqual([
      { line: 2, field: 2, message: expect.stringContaining('quote inside an unquoted field') },
      { line: 3, field: 1, message: expect.stringContaining('text after the closing quote') },
    ]);
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['3', '4'],
    ]);
  });

  it('reports a quoted field never closed at the line where it opened', () => {
    const { problems } = parseCsv('a,b\n1,"open\n2,3\n');
    expect(problems).toEqual([{ line: 2, field: 2, message: expect.stringContaining('never closed') }]);
  });
});

function problemsOf(content: string | Uint8Array, file = 'm.csv'): ManifestProblem[] {
  return parseManifest(content, file).problems;
}

describe('parseManifest: CSV', () => {
  it('reads rows, in any column order, header case-insensitive, with a BOM and CRLF', () => {
    const text = `\uFEFFTerminal,SN,merchant,Name,profile\r\n10000001,PB001,${M1},"Noodle Bar, Main St",\r\n10000002,PB002,${M2},,shop.yaml\r\n`;
    const parsed = parseManifest(text, 'm.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.format).toBe('csv');
    expect(parsed.rows).toEqual([
      {
        sn: 'PB001',
        merchant: M1,
        terminal: '10000001',
        name: 'Noodle Bar, Main St',
        where: 'line 2',
        index: 0,
      },
      {
        sn: 'PB002',
        merchant: M2,
        terminal: '10000002',
        profilePath: 'shop.yaml',
        where: 'line 3',
        index: 1,
      },
    ]);
  });

  it('takes the BOM from bytes too, and a UTF-8 name counts in bytes (40 at most)', () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode(`sn,merchant,terminal,name\nPB1,${M1},10000001,${'面'.repeat(13)}\n`),
    ]);
    expect(parseManifest(bytes, 'm.csv').rows[0]?.name).toBe('面'.repeat(13)); // 39 bytes
    const long = `sn,merchant,terminal,name\nPB1,${M1},10000001,${'面'.repeat(14)}\n`; // 42 bytes
    expect(problemsOf(long)).toEqual([
      { file: 'm.csv', where: 'line 2', field: 'name', message: expect.stringContaining('1 to 40 bytes') },
    ]);
  });

  it('names file, line and field of every bad value, all at once', () => {
    const text = [
      'sn,merchant,terminal',
      `PB001,${M1},10000001`,
      'PB002,82210005211002,10000002',
      `bad sn!,${M1},1000003`,
      `,${M1},10000004`,
    ].join('\n');
    const problems = problemsOf(text);
    expect(problems).toEqual([
      {
        file: 'm.csv',
        where: 'line 3',
        field: 'merchant',
        message: expect.stringMatching(/^must be 15 digits, not "82210005211002"/),
      },
      {
        file: 'm.csv',
        where: 'line 4',
        field: 'sn',
        message: expect.stringMatching(/^must be 1-32 characters/),
      },
      {
        file: 'm.csv',
        where: 'line 4',
        field: 'terminal',
        message: expect.stringMatching(/^must be 8 digits/),
      },
      { file: 'm.csv', where: 'line 5', field: 'sn', message: 'is missing' },
    ]);
  });

  it('explains what a spreadsheet did to a number', () => {
    const problems = problemsOf(`sn,merchant,terminal\nPB1,8.22100052110023E+14,1000001\n`);
    expect(problems[0]?.message).toContain('format the column as text');
    expect(problems[1]?.message).toContain('dropped leading zeros');
  });

  it('refuses duplicate serial numbers and duplicate terminal numbers, naming the other line', () => {
    const text = [
      'sn,merchant,terminal',
      `PB001,${M1},10000001`,
      `PB002,${M1},10000002`,
      `PB001,${M2},10000003`,
      `PB004,${M2},10000002`,
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      { file: 'm.csv', where: 'line 4', field: 'sn', message: 'serial number PB001 is also on line 2' },
      {
        file: 'm.csv',
        where: 'line 5',
        field: 'terminal',
        message: expect.stringContaining('terminal number 10000002 is also on line 3'),
      },
    ]);
  });

  it('finds duplicates even on rows with another bad field', () => {
    const text = `sn,merchant,terminal\nPB001,${M1},1000001\nPB001,${M1},10000002\n`;
    expect(problemsOf(text).map((p) => [p.where, p.field])).toEqual([
      ['line 2', 'terminal'],
      ['line 3', 'sn'],
    ]);
  });

  it('checks the header: unknown, repeated and missing columns', () => {
    expect(problemsOf('sn,merchant,terminal,colour,sn\nPB1,1,1,red,x\n')).toEqual([
      { file: 'm.csv', where: 'line 1', field: 'colour', message: expect.stringContaining('unknown column') },
      { file: 'm.csv', where: 'line 1', field: 'sn', message: 'column named twice' },
    ]);
    expect(problemsOf(`sn,terminal\nPB1,10000001\n`)).toEqual([
      {
        file: 'm.csv',
        where: 'line 1',
        field: 'merchant',
        message: expect.stringContaining('required column'),
      },
    ]);
  });

  it('names the missing fields of a short row, and the extra one of a long row', () => {
    const text = `sn,merchant,terminal,name\nPB1,${M1}\nPB2,${M1},10000002,Shop,extra\n`;
    expect(problemsOf(text)).toEqual([
      {
        file: 'm.csv',
        where: 'line 2',
        field: 'terminal, name',
        message: expect.stringContaining('missing'),
      },
      { file: 'm.csv', where: 'line 3', field: 'field 5', message: expect.stringContaining('extra field') },
    ]);
  });

  it('reports malformed CSV with the column name of the field', () => {
    const text = `sn,merchant,terminal,name\nPB1,${M1},10000001,Bob"s\n`;
    expect(problemsOf(text)).toEqual([
      { file: 'm.csv', where: 'line 2', field: 'name', message: expect.stringContaining('quote inside') },
    ]);
  });

  it('reads the semicolon-separated CSV that Excel writes in many locales, with its BOM', () => {
    const text = `\uFEFFsn;merchant;terminal;name\r\nPB001;${M1};10000001;"Bäckerei; Hauptstr. 1"\r\nPB002;${M2};10000002;Café, Ecke\r\n`;
    const parsed = parseManifest(new TextEncoder().encode(text), 'm.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((r) => [r.sn, r.merchant, r.terminal, r.name, r.where])).toEqual([
      ['PB001', M1, '10000001', 'Bäckerei; Hauptstr. 1', 'line 2'],
      ['PB002', M2, '10000002', 'Café, Ecke', 'line 3'],
    ]);
  });

  it("takes Excel's sep= line, and a tab-separated file, keeping the line numbers of the file", () => {
    const sep = parseManifest(
      `sep=;\nsn;merchant;terminal\nPB001;${M1};10000001\nPB002;${M2};123\n`,
      'm.csv',
    );
    expect(sep.rows.map((r) => [r.sn, r.where])).toEqual([['PB001', 'line 3']]);
    expect(sep.problems).toEqual([
      { file: 'm.csv', where: 'line 4', field: 'terminal', message: expect.stringContaining('8 digits') },
    ]);
    const tabs = parseManifest(
      `sn\tmerchant\tterminal\tname\nPB001\t${M1}\t10000001\tNoodle Bar, Main St\n`,
      'm.csv',
    );
    expect(tabs.problems).toEqual([]);
    expect(tabs.rows[0]).toMatchObject({ sn: 'PB001', name: 'Noodle Bar, Main St' });
  });

  it('tells the delimiter from the header row: the one that names the known columns', () => {
    expect(detectDelimiter('sn,merchant,terminal\n1;2;3', MANIFEST_FIELDS).delimiter).toBe(',');
    expect(detectDelimiter('sn;merchant;terminal,x\n', MANIFEST_FIELDS).delimiter).toBe(';');
    expect(detectDelimiter('"sn";"merchant";"terminal"\r\n', MANIFEST_FIELDS).delimiter).toBe(';');
    expect(detectDelimiter('sn\tmerchant\tterminal', MANIFEST_FIELDS).delimiter).toBe('\t');
    expect(detectDelimiter('nothing known here', MANIFEST_FIELDS).delimiter).toBe(',');
  });

  it('refuses text that is not UTF-8, naming the line', () => {
    const head = new TextEncoder().encode(`sn,merchant,terminal,name\nPB1,${M1},10000001,Caf`);
    const bytes = new Uint8Array([...head, 0xe9, 0x0a]); // Latin-1 é
    expect(problemsOf(bytes)).toEqual([
      { file: 'm.csv', where: 'line 2', field: '(text)', message: expect.stringContaining('not UTF-8') },
    ]);
  });

  it('refuses a manifest without rows', () => {
    expect(problemsOf('sn,merchant,terminal\n')).toEqual([
      { file: 'm.csv', where: 'file', field: '(rows)', message: 'has no rows' },
    ]);
  });
});

describe('parseManifest: JSON', () => {
  it('reads an array of rows; "" and null optional fields are absent', () => {
    const text = JSON.stringify([
      { sn: 'PB001', merchant: M1, terminal: '10000001', name: 'Shop' },
      { sn: 'PB002', merchant: M2, terminal: '10000002', name: '', profile: null },
    ]);
    const parsed = parseManifest(text, 'm.json');
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((r) => [r.sn, r.name, r.where])).toEqual([
      ['PB001', 'Shop', 'row 1'],
      ['PB002', undefined, 'row 2'],
    ]);
  });

  it('is recognized by content when the name says nothing', () => {
    expect(parseManifest(`  [{"sn":"A","merchant":"${M1}","terminal":"10000001"}]`, 'manifest').format).toBe(
      'json',
    );
  });

  it('names row and field: numbers for numbers, unknown keys, wrong shapes', () => {
    const text = JSON.stringify([
      { sn: 'PB001', merchant: 822100052110023, terminal: '10000001' },
      { sn: 'PB002', merchant: M1, terminal: '10000002', colour: 'red' },
      'PB003',
    ]);
    expect(problemsOf(text, 'm.json')).toEqual([
      {
        file: 'm.json',
        where: 'row 1',
        field: 'merchant',
        message: expect.stringContaining('text in quotes'),
      },
      { file: 'm.json', where: 'row 2', field: 'colour', message: expect.stringContaining('unknown field') },
      {
        file: 'm.json',
        where: 'row 3',
        field: '(row)',
        message: expect.stringContaining('must be an object'),
      },
    ]);
  });

  it('refuses what is not a JSON array', () => {
    expect(problemsOf('{"sn": "x"}', 'm.json')[0]).toMatchObject({ where: 'file', field: '(top level)' });
    expect(problemsOf('[{"sn": }]', 'm.json')[0]).toMatchObject({ field: '(json)' });
  });
});

describe('loadManifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'posbridge-manifest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads each profile relative to the manifest directory, once; rows without one get the default', async () => {
    await mkdir(join(dir, 'profiles'));
    await writeFile(join(dir, 'profiles', 'shop.json'), JSON.stringify({ settings: { 'net.mode': 'wifi' } }));
    const path = join(dir, 'm.csv');
    await writeFile(
      path,
      `sn,merchant,terminal,profile\nPB1,${M1},10000001,profiles/shop.json\nPB2,${M1},10000002,profiles/shop.json\nPB3,${M1},10000003,\n`,
    );
    const loaded: string[] = [];
    const { loadProfile } = await import('../../src/host/workflow/profile-file.js');
    const manifest = await loadManifest(path, {
      loadProfile: (p) => {
        loaded.push(p);
        return loadProfile(p);
      },
    });
    expect(loaded).toEqual([join(dir, 'profiles', 'shop.json')]);
    expect(manifest.rows.map((r) => r.profile.settings)).toEqual([
      { 'net.mode': 'wifi' },
      { 'net.mode': 'wifi' },
      {},
    ]);
    expect(manifest.rows[2]?.profile).toBe(DEFAULT_PROFILE);
    expect(manifest.rows[0]?.profilePath).toBe('profiles/shop.json');
  });

  it('reports a bad or missing profile at the first row naming it, with every other problem', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ settings: { 'no.such': 1 } }));
    const path = join(dir, 'm.csv');
    await writeFile(
      path,
      `sn,merchant,terminal,profile\nPB1,${M1},10000001,bad.json\nPB2,${M1},10000002,bad.json\nPB3,${M1},1,gone.json\n`,
    );
    const error = await loadManifest(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect(isPosbridgeError(error, 'USAGE')).toBe(true);
    const problems = (error as ManifestError).problems;
    expect(problems.map((p) => [p.where, p.field])).toEqual([
      ['line 2', 'profile'],
      ['line 4', 'terminal'],
    ]);
    expect(problems[0]?.message).toContain('no.such');
    // Row 4 is invalid, so its profile is not even read.
    expect((error as ManifestError).message).toContain(`${path} line 2, profile:`);
    expect((error as ManifestError).message).toContain(`${path} line 4, terminal: must be 8 digits`);
  });

  it('names the file it cannot read', async () => {
    const error = await loadManifest(join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect(isPosbridgeError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toContain('cannot read manifest');
  });
});
