/**
 * posbridge(1), generated from the commander definitions by the hidden `__build-manual DIR` (what
 * `npm run build` runs): man -l renders it without a warning from groff, it has a section for
 * every visible command with every option, and every environment variable the code reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import { processIo } from '../../src/cli/io.js';
import { ENVIRONMENT } from '../../src/cli/manual/environment.js';
import { text } from '../../src/cli/manual/roff.js';
import { buildProgram } from '../../src/cli/program.js';
import { CliHarness } from '../support/cli-inproc.js';
import { requireTool } from '../support/tools.js';

let cli: CliHarness;
const dir = mkdtempSync(join(tmpdir(), 'posbridge-manual-'));
let page = '';

beforeAll(async () => {
  cli = new CliHarness();
  const run = await cli.run(['__build-manual', dir]);
  expect(run.code, run.stderr).toBe(0);
  page = readFileSync(join(dir, 'man', 'posbridge.1'), 'utf8');
});

afterAll(() => {
  cli.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The page as `man -l` shows it, 80 columns, no pager; groff's warnings on stderr. */
function render(file: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('man', ['--warnings', '-l', '-P', 'cat', file], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '80', LC_ALL: 'C.UTF-8', MAN_KEEP_FORMATTING: '' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function visibleCommands(): { path: string[]; command: Command }[] {
  const program = buildProgram({ ...productionDeps(processIo()), result: { exitCode: 0 } });
  const walk = (command: Command, path: string[]): { path: string[]; command: Command }[] =>
    command
      .createHelp()
      .visibleCommands(command)
      .filter((sub) => command.commands.includes(sub))
      .flatMap((sub) => [{ path: [...path, sub.name()], command: sub }, ...walk(sub, [...path, sub.name()])]);
  return walk(program, []);
}

describe('posbridge(1)', () => {
  it('writes the page and the three completion scripts where the package ships them', () => {
    expect(readdirSync(join(dir, 'completions')).sort()).toEqual([
      '_posbridge',
      'posbridge.bash',
      'posbridge.fish',
    ]);
    expect(statSync(join(dir, 'man', 'posbridge.1')).size).toBeGreaterThan(0);
  });

  it.skipIf(!requireTool('man', 'man-db'))('renders with man -l, groff warning about nothing', () => {
    const run = render(join(dir, 'man', 'posbridge.1'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const heading of ['NAME', 'SYNOPSIS', 'COMMANDS', 'ENVIRONMENT', 'EXIT STATUS', 'FILES', 'EXAMPLES'])
      expect(run.stdout).toMatch(new RegExp(`^${heading}$`, 'm'));
    expect(run.stdout).toMatch(/^POSBRIDGE\(1\) +User Commands +POSBRIDGE\(1\)$/m);
  });

  it.skipIf(!requireTool('man', 'man-db'))(
    'the check would see a broken page (a warning, a bad macro)',
    () => {
      const broken = join(dir, 'broken.1');
      writeFileSync(broken, `${page}.BOGUS\n`);
      expect(render(broken).stderr).toMatch(/BOGUS/);
    },
  );

  it('has a section for every visible command, with each of its options', () => {
    const rendered = render(join(dir, 'man', 'posbridge.1')).stdout;
    for (const { path, command } of visibleCommands()) {
      expect(page, `posbridge ${path.join(' ')}`).toContain(`.SS "${text(`posbridge ${path.join(' ')}`)}`);
      for (const option of command.createHelp().visibleOptions(command)) {
        if (option.long === '--help') continue;
        expect(page, `posbridge ${path.join(' ')} ${option.long}`).toContain(`.B ${text(option.flags)}\n`);
      }
    }
    expect(rendered).toContain('posbridge completion [options] <shell>');
    expect(page).not.toContain('__complete');
    expect(page).not.toContain('__build-manual');
  });

  it('names every environment variable the code reads', () => {
    const names = new Set<string>();
    const walk = (at: string) => {
      for (const entry of readdirSync(at, { withFileTypes: true })) {
        const path = join(at, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts'))
          for (const match of readFileSync(path, 'utf8').matchAll(/\bPOSBRIDGE_[A-Z_]+\b/g))
            names.add(match[0]);
      }
    };
    walk(join(import.meta.dirname, '../../src'));
    expect(names.size).toBeGreaterThan(0);
    const listed = ENVIRONMENT.flatMap((v) => v.name.split(/,\s*/));
    for (const name of names) expect(listed, name).toContain(name);
    for (const name of listed) expect(page, name).toContain(text(name));
    // docs/cli.md, "Environment variables", lists the same.
    const docs = readFileSync(join(import.meta.dirname, '../../docs/cli.md'), 'utf8');
    const table = docs.slice(
      docs.indexOf('## Environment variables'),
      docs.indexOf('## Completion and manual page'),
    );
    for (const name of listed) expect(table, `docs/cli.md: ${name}`).toContain(`\`${name}\``);
  });

  it('is the same page for the same tree and SOURCE_DATE_EPOCH (a reproducible build)', async () => {
    const again = mkdtempSync(join(tmpdir(), 'posbridge-manual-'));
    try {
      cli.env.SOURCE_DATE_EPOCH = '1767225600';
      const first = await cli.run(['__build-manual', join(again, 'a')]);
      const second = await cli.run(['__build-manual', join(again, 'b')]);
      delete cli.env.SOURCE_DATE_EPOCH;
      expect([first.code, second.code]).toEqual([0, 0]);
      const a = readFileSync(join(again, 'a', 'man', 'posbridge.1'), 'utf8');
      expect(a).toContain(String.raw`"2026\-01\-01"`);
      expect(readFileSync(join(again, 'b', 'man', 'posbridge.1'), 'utf8')).toBe(a);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});
