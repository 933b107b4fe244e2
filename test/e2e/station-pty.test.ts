/**
 * `posbridge station` on real pseudo-terminals through the real serialport binding, as USB
 * terminals would be: three mock terminals on ptys (line-rate paced), one not in the manifest and
 * one out of paper; the live view drawn in place as on a technician's terminal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerStation, type StationCliDeps } from '../../src/cli/commands/station.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { MockTerminal } from '../../src/mock-device/index.js';
import { openPty, type PtyTransport } from '../../src/mock-device/transports/index.js';
import { MERCHANT } from '../support/constants.js';
import { parseXml } from '../unit/station-xml.helper.js';

let dir: string;
const transports: PtyTransport[] = [];
const terminals: MockTerminal[] = [];

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'posbridge-station-pty-'));
});
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const t of terminals.splice(0)) await t.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function serve(
  name: string,
  sn: string,
  diagFaults?: string,
): Promise<{ link: string; terminal: MockTerminal }> {
  const terminal = new MockTerminal({
    identity: { sn },
    diagTimeScale: 0.01,
    ...(diagFaults && { diagFaults }),
  });
  terminals.push(terminal);
  const link = path.join(dir, name);
  transports.push(await openPty({ linkPath: link }, (l) => terminal.attach(l)));
  return { link, terminal };
}

describe('posbridge station on ptys', () => {
  it('provisions the listed terminals as they answer, leaves the stranger alone, redraws in place', async () => {
    const [a, b, x] = await Promise.all([
      serve('pos-a', 'PTY0001'),
      serve('pos-b', 'PTY0002', 'printer:paper_out'),
      serve('pos-x', 'STRANGER'),
    ]);
    const verbs: string[] = [];
    x.terminal.addBehaviour({
      name: 'spy',
      onRequest: (info) => {
        verbs.push(info.request.verb);
        return undefined;
      },
    });
    const manifest = path.join(dir, 'm.json');
    await fs.promises.writeFile(
      manifest,
      JSON.stringify([
        { sn: 'PTY0001', merchant: MERCHANT, terminal: '30000001', name: 'Shop A' },
        { sn: 'PTY0002', merchant: MERCHANT, terminal: '30000002' },
      ]),
    );
    const junit = path.join(dir, 'station.xml');

    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: {
        write: (t: string) => {
          stdout += t;
        },
        isTTY: true,
      },
      stderr: {
        write: (t: string) => {
          stderr += t;
        },
      },
      stdin: Readable.from([Buffer.from('Pty-Adm1n-26\n')]),
      env: { NO_COLOR: '1', PATH: process.env.PATH },
    };
    const deps: StationCliDeps = {
      ...productionDeps(io),
      user: () => 'tech',
      hostname: () => 'bench',
      result: { exitCode: 0 },
    };
    const program = new Command('posbridge').exitOverride();
    registerStation(program, deps);
    for (const command of program.commands) command.exitOverride();
    try {
      await program.parseAsync(
        [
          'station',
          '--manifest',
          manifest,
          '--admin-password-stdin',
          '--junit',
          junit,
          '--credentials-out',
          path.join(dir, 'pw.txt'),
          '--port',
          a.link,
          '--port',
          b.link,
          '--port',
          x.link,
        ],
        { from: 'user' },
      );
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      deps.result.exitCode = 2;
    }

    expect(stderr).toBe('');
    expect(deps.result.exitCode).toBe(1);
    expect(verbs).toEqual(['HELLO', 'STATUS']);
    expect(x.terminal.snapshot().admin.factoryPassword).toBe(true);
    expect(a.terminal.snapshot().binding).toEqual({
      merchant: MERCHANT,
      terminal: '30000001',
      name: 'Shop A',
    });
    expect(b.terminal.snapshot().binding?.terminal).toBe('30000002');
    // Drawn in place: the cursor goes back up over the three port lines.
    expect(stdout).toContain('\r\u001b[3A');
    expect(stdout).toContain('1 provisioned, 0 already provisioned, 1 failed, 0 quarantined, 0 not seen');
    const cases = parseXml(await fs.promises.readFile(junit, 'utf8')).children[0]!.children.filter(
      (c) => c.name === 'testcase',
    );
    expect(cases.map((c) => [c.attrs.name, c.children.some((e) => e.name === 'failure')])).toEqual([
      ['PTY0001', false],
      ['PTY0002', true],
    ]);
  });
});
