/**
 * `posbridge report --format csv` opened in a real spreadsheet (LibreOffice Calc, headless): no
 * cell runs as a formula, and the merchant and terminal numbers keep their leading zeros as text.
 * Conversion to flat ODS shows what each cell became (its type, formula, text). A control file
 * written without posbridge's rules shows the same spreadsheet does run `=1+1` and drop zeros,
 * so the check is not vacuous.
 *
 * Needs `soffice` (Debian: apt-get install -y libreoffice-calc-nogui); skipped without it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliHarness } from '../support/cli-inproc.js';
import { WORD_JOINER as WJ } from '../support/constants.js';

const soffice = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'soffice'))
  .find((path) => existsSync(path));

interface Cell {
  type: string | undefined;
  formula: string | undefined;
  text: string;
}

/** The cells of each row of the first table of a flat ODS document. */
function rowsOf(fods: string): Cell[][] {
  const textOf = (text: string) =>
    text
      .replace(/<text:s[^>]*\/>/g, ' ')
      .replace(/<text:tab\/>/g, '\t')
      .replace(/<[^>]+>/g, '')
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .trim(); // the indentation of the XML (trim keeps U+2060)
  return [...fods.matchAll(/<table:table-row[^>]*>([\s\S]*?)<\/table:table-row>/g)].map(([, row]) => {
    const cells: Cell[] = [];
    for (const [, attrs, body] of row!.matchAll(
      /<table:table-cell([^>]*?)(?:\/>|>([\s\S]*?)<\/table:table-cell>)/g,
    )) {
      const repeat = Number(/table:number-columns-repeated="(\d+)"/.exec(attrs!)?.[1] ?? 1);
      const cell = {
        type: /office:value-type="([^"]+)"/.exec(attrs!)?.[1],
        formula: /table:formula="([^"]+)"/.exec(attrs!)?.[1],
        text: textOf(body ?? ''),
      };
      for (let i = 0; i < Math.min(repeat, 50); i++) cells.push(cell);
    }
    return cells;
  });
}

/** Converts CSV files as a person opening them would: comma-separated, UTF-8, defaults otherwise. */
function openInCalc(dir: string, files: string[]): Map<string, Cell[][]> {
  execFileSync(
    soffice!,
    [
      `-env:UserInstallation=file://${join(dir, 'lo-profile')}`,
      '--headless',
      '--infilter=CSV:44,34,76,1',
      '--convert-to',
      'fods',
      '--outdir',
      dir,
      ...files,
    ],
    { stdio: 'ignore', timeout: 180_000 },
  );
  return new Map(files.map((file) => [file, rowsOf(readFileSync(file.replace(/\.csv$/, '.fods'), 'utf8'))]));
}

describe.skipIf(soffice === undefined)(
  'report CSV in LibreOffice Calc (skipped when soffice is absent: apt-get install -y libreoffice-calc-nogui)',
  () => {
    const cli = new CliHarness();
    afterAll(() => cli.dispose());

    it('runs no formula and keeps the merchant and terminal numbers, leading zeros included', async () => {
      const merchant = '012345678901234';
      const terminal = '00001234';
      const provision = await cli.run(
        [
          'provision',
          '--port',
          'mock://lo?sn=-1%2B1',
          '--merchant',
          merchant,
          '--terminal',
          terminal,
          '--technician',
          '=HYPERLINK("http://evil.example/x","click")',
          '--station',
          '@SUM(1+1)',
          '--admin-password-stdin',
          '--credentials-out',
          join(cli.dir, 'ops.txt'),
        ],
        'Adm1n-2026\n',
      );
      expect(provision.code, provision.stderr).toBe(0);
      const report = await cli.run(['report', '--format', 'csv', '--include-mocks']);
      expect(report.code).toBe(0);
      const file = join(cli.dir, 'report.csv');
      writeFileSync(file, report.stdout);
      // Without posbridge's rules: the same spreadsheet runs a formula and drops the zeros.
      const control = join(cli.dir, 'control.csv');
      writeFileSync(control, `\uFEFFmerchant,technician\r\n${merchant},=1+1\r\n`);

      const opened = openInCalc(cli.dir, [file, control]);
      const [header, row] = opened.get(file)!;
      const cell = (name: string): Cell => row![header!.findIndex((h) => h.text === name)]!;
      for (const c of row!) expect(c.formula, JSON.stringify(c)).toBeUndefined();
      expect(cell('merchant')).toMatchObject({ type: 'string', text: `${WJ}${merchant}` });
      expect(cell('terminal')).toMatchObject({ type: 'string', text: `${WJ}${terminal}` });
      expect(cell('technician')).toMatchObject({
        type: 'string',
        text: `'=HYPERLINK("http://evil.example/x","click")`,
      });
      expect(cell('station')).toMatchObject({ type: 'string', text: "'@SUM(1+1)" });
      expect(cell('sn')).toMatchObject({ type: 'string', text: "'-1+1" });

      const [, controlRow] = opened.get(control)!;
      expect(controlRow![0]).toMatchObject({ type: 'float', text: merchant.replace(/^0+/, '') });
      expect(controlRow![1]!.formula).toBe('of:=1+1');
    }, 240_000);
  },
);
