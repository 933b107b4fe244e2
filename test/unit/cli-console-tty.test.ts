/**
 * `posbridge console` on a terminal: readline echoes what the person types, password included.
 * Once the line is entered, the console replaces that echo with the line as sent (password
 * masked), and the up arrow recalls the masked line, never the password; a recalled masked line
 * is not sent (it would spend a login attempt on "***"). Checked on the screen a person would
 * see (test/support/screen.ts), not on the bytes alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { cleanEnv } from '../support/cli-inproc.js';
import { CONSOLE_PW as PW } from '../support/constants.js';
import { screenAfter } from '../support/screen.js';

const COLUMNS = 40;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the console with `keys` typed on a terminal; returns the screen and what went to stderr. */
async function typeInto(
  keys: string,
): Promise<{ code: number; screen: string[]; bytes: string; stderr: string }> {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-tty-'));
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: COLUMNS });
  let bytes = '';
  stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.toString('utf8');
  });
  let stderr = '';
  const env = cleanEnv(dir);
  const io: CliIo = {
    stdin,
    stdout,
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
    },
    env,
  };
  const done = runCli(
    ['console', '--port', 'mock://t'],
    productionDeps(io, { defaults: { diagTimeScale: 0 } }),
  );
  stdin.write(keys);
  stdin.end();
  const code = await done;
  return { code, screen: screenAfter(bytes, COLUMNS), bytes, stderr };
}

describe('posbridge console on a terminal', () => {
  it('replaces the echo of a typed password with the masked line, and recalls the masked line', async () => {
    // A password typed, then the up arrow and Enter: the recalled line.
    const run = await typeInto(`login user=admin password=${PW} and-some-more-text\r\u001b[A\r`);
    expect(run.code).toBe(0);
    expect(run.bytes).toContain(PW); // readline did echo it as it was typed...
    const screen = run.screen.join('\n');
    expect(screen).not.toContain('Qz7'); // ...and it is gone from the screen
    // The line as sent, wrapped at the terminal's width like the echo it replaced.
    expect(run.screen.join('')).toMatch(
      /> @\d+ login user=admin password=\*\*\* \*\*\* \*\?\?\?\?< @\d+ ERR code=400 /,
    );
    // The up arrow brought back the masked line, which was not sent.
    expect(run.stderr).toMatch(/not sent: its password is the mask \*\*\*/);
    expect(screen.match(/^> /gm)).toHaveLength(1);
    expect(readFileSync(join(dir, 'state', 'posbridge', 'console_history'), 'utf8')).not.toContain('Qz7');
  });

  it('leaves a line without a secret as it was typed', async () => {
    const run = await typeInto('STATUS\r');
    expect(run.code).toBe(0);
    expect(run.screen).toContain('STATUS');
    expect(run.screen.join('\n')).toMatch(/^> @\d+ STATUS \*[0-9A-F]{4}$/m);
  });
});
