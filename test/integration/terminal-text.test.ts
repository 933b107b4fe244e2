/**
 * Terminal text is data, not control (docs/cli.md, "Terminal text"): a terminal whose model,
 * firmware, merchant name, diagnostic hints, operator names and error messages hold escape
 * sequences (window title, clear screen, colour), C1 controls, DEL and bidi overrides cannot
 * retitle, clear or recolour the technician's screen. Every command runs in-process against the
 * mock with a hostile behaviour; no raw control character may reach stdout or stderr, and each
 * one is shown as text (`\x1b`, `\u202e`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MockBehaviour } from '../../src/mock-device/index.js';
import { CliHarness, type CliRun } from '../support/cli-inproc.js';
import { HOSTILE, hostileTerminal, RAW_CONTROL } from '../support/hostile-terminal.js';

let cli: CliHarness;
afterEach(() => cli?.dispose());

const PORT = 'mock://h?diag-fail=printer:paper_out';

function expectNoRawControl(run: CliRun, what: string): void {
  for (const [name, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    const found = RAW_CONTROL.exec(text);
    expect(found, `${what}: raw U+${found?.[0].charCodeAt(0).toString(16)} on ${name}:\n${text}`).toBeNull();
  }
}

/** What a hostile text looks like once shown: each control a visible escape. */
const SHOWN_TITLE = '\\x1b]0;pwned\\x07';
const SHOWN_C1 = '\\x9b2J';
const SHOWN_BIDI = '\\u202eOK';

describe('text from a hostile terminal is printed, never obeyed', () => {
  it('info, provision, diag, operator list, history and report (text): every control character shown', async () => {
    cli = new CliHarness({ diagTimeScale: 0, behaviours: [hostileTerminal()] });
    const info = await cli.run(['info', '--port', PORT]);
    expectNoRawControl(info, 'info');
    expect(info.stdout).toContain(`PB${SHOWN_TITLE}`);
    expect(info.stdout).toContain(SHOWN_C1);
    expect(info.stdout).toContain(SHOWN_BIDI);

    const provision = await cli.provision(PORT, ['--name', 'Shop']);
    expectNoRawControl(provision, 'provision');
    expect(provision.stdout).toContain(`load paper${SHOWN_TITLE}`);

    const adminEnv = ['--admin-password-stdin'];
    const diag = await cli.run(['diag', '--port', PORT, ...adminEnv], 'Adm1n-2026\n');
    expect(diag.code).toBe(1);
    expectNoRawControl(diag, 'diag');
    expect(diag.stdout).toContain(`paper_out${SHOWN_TITLE}`);

    const operators = await cli.run(['operator', 'list', '--port', PORT, ...adminEnv], 'Adm1n-2026\n');
    expectNoRawControl(operators, 'operator list');
    expect(operators.stdout).toContain(`Ann${SHOWN_TITLE}`);

    // A refusal: the terminal's msg reaches the error line.
    const refused = await cli.run(
      ['operator', 'del', '--port', PORT, '--id', '42', ...adminEnv],
      'Adm1n-2026\n',
    );
    expect(refused.code).toBe(1);
    expectNoRawControl(refused, 'operator del (refused)');
    expect(refused.stderr).toContain(`refused${SHOWN_TITLE}`);

    // The audit trail keeps what the terminal said; reading it back shows it, never obeys it.
    const history = await cli.run(['history']);
    expectNoRawControl(history, 'history');
    expect(history.stdout).toContain(`PB${SHOWN_TITLE}`);
    const csv = await cli.run(['report', '--format', 'csv', '--include-mocks']);
    // CSV records end with CRLF (RFC 4180): the only control characters allowed.
    expectNoRawControl({ ...csv, stdout: csv.stdout.replaceAll('\r\n', '\n') }, 'report csv');
    expect(csv.stdout).toContain(`PB${SHOWN_TITLE}`);
    const json = await cli.run(['report', '--format', 'json', '--include-mocks']);
    expectNoRawControl(json, 'report json');
    expect(JSON.parse(json.stdout)[0].model).toBe(
      `PB${HOSTILE.title}${HOSTILE.clear}${HOSTILE.colour}${HOSTILE.c1}${HOSTILE.bidi}${HOSTILE.del}`,
    );
  });

  it('--json documents and logs escape every control character, and still parse to the same text', async () => {
    cli = new CliHarness({ diagTimeScale: 0, behaviours: [hostileTerminal()] });
    const info = await cli.run(['info', '--port', PORT, '--json', '--log-level', 'debug']);
    expectNoRawControl(info, 'info --json');
    expect(info.stdout).toContain('\\u009b2J');
    expect(info.stdout).toContain('\\u202eOK');
    expect(JSON.parse(info.stdout).hello.model).toContain(HOSTILE.c1);
    for (const line of info.stderr.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();

    const pretty = await cli.run(['info', '--port', PORT, '--log-level', 'debug', '--log-format', 'pretty']);
    expectNoRawControl(pretty, 'info --log-format pretty');
    expect(pretty.stderr).not.toBe('');
  });

  it('on a terminal with colour, the hostile sequences never appear raw (only posbridge colours do)', async () => {
    cli = new CliHarness({ diagTimeScale: 0, behaviours: [hostileTerminal()] }, { tty: true });
    const info = await cli.run(['info', '--port', PORT]);
    expect(info.stdout).toMatch(/\u001b\[1m/); // posbridge's own bold: the harness is a colour terminal
    for (const raw of [
      HOSTILE.title,
      HOSTILE.clear,
      `PB${HOSTILE.colour}`,
      HOSTILE.c1,
      HOSTILE.bidi,
      HOSTILE.del,
    ])
      expect(info.stdout + info.stderr).not.toContain(raw);
    expect(info.stdout).toContain(`PB${SHOWN_TITLE}`);
  });

  it('a merchant name with ESC sequences, stored by INIT on a faithful mock, is shown as text', async () => {
    cli = new CliHarness();
    const name = `Shop${HOSTILE.title}${HOSTILE.clear}`;
    const provision = await cli.provision('mock://n', ['--name', name]);
    expect(provision.code, provision.stderr).toBe(0);
    const info = await cli.run(['info', '--port', 'mock://n']);
    expectNoRawControl(info, 'info');
    expect(info.stdout).toContain(`"Shop${SHOWN_TITLE}\\x1b[2J\\x1b[H"`);
  });

  it('console: replies with raw control bytes and quoted escapes are shown as text', async () => {
    // After every reply the terminal sends a line with raw control bytes (not even TSP/1 escaped).
    const rawBytes: MockBehaviour = {
      name: 'raw-bytes',
      onLine: (_connection, line) => [line, { ...line, text: `EVT boot sn=X ${HOSTILE.title}${HOSTILE.c1}` }],
    };
    cli = new CliHarness({ diagTimeScale: 0, behaviours: [rawBytes, hostileTerminal()] });
    const run = await cli.run(['console', '--port', 'mock://c'], 'HELLO\nLOGIN user=admin password=x\n');
    expectNoRawControl(run, 'console');
    expect(run.stdout).toContain(SHOWN_TITLE);
    expect(run.stdout).toMatch(/msg="refused\\x1B\]0;pwned/);
  });

  it('station: a hostile manifest in its errors, and a hostile terminal in the live view and summary', async () => {
    const manifestIn = (harness: CliHarness, body: string) => {
      const path = join(harness.dir, 'terminals.csv');
      writeFileSync(path, `sn,merchant,terminal,name\r\n${body}`);
      return path;
    };
    const station = (harness: CliHarness, manifest: string) =>
      harness.run(
        [
          'station',
          '--manifest',
          manifest,
          '--admin-password-stdin',
          '--port',
          PORT,
          '--credentials-out',
          join(harness.dir, 'c.txt'),
        ],
        'Adm1n-2026\n',
      );
    cli = new CliHarness({ diagTimeScale: 0, behaviours: [hostileTerminal()] });
    const bad = await station(
      cli,
      manifestIn(cli, `ZZ${HOSTILE.title},822100052110023,1000000${HOSTILE.clear},\r\n`),
    );
    expectNoRawControl(bad, 'station (manifest error)');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('\\x1b]0;pwned');

    for (const tty of [false, true]) {
      cli.dispose();
      cli = new CliHarness({ diagTimeScale: 0, behaviours: [hostileTerminal()] }, { tty });
      const run = await station(
        cli,
        manifestIn(cli, `PBM0000001,822100052110023,10000001,"Shop${HOSTILE.title}"\r\n`),
      );
      expect(run.code, run.stderr).toBe(1); // the printer check fails on purpose
      if (tty) {
        for (const raw of [HOSTILE.title, HOSTILE.clear, HOSTILE.c1, HOSTILE.bidi])
          expect(run.stdout + run.stderr).not.toContain(raw);
      } else expectNoRawControl(run, 'station');
      expect(run.stdout).toContain(SHOWN_TITLE);
    }
  });
});
