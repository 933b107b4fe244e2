/**
 * docs/cli.md documents every flag (docs/cli.md, "Commands"): each command of the program
 * has its section there, and each of its long flags is named there or on the command's own page
 * (docs/mock.md for `posbridge mock`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import { processIo } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT } from '../support/cli-process.js';

const cliDoc = readFileSync(join(REPO_ROOT, 'docs', 'cli.md'), 'utf8');

/** docs/cli.md, plus docs/NAME.md when a command has its own page (mock.md, daemon.md, ...). */
function docsOf(command: string): string {
  const own = join(REPO_ROOT, 'docs', `${command}.md`);
  return existsSync(own) ? `${cliDoc}\n${readFileSync(own, 'utf8')}` : cliDoc;
}

function commands(): { path: string; command: Command }[] {
  const program = buildProgram({ ...productionDeps(processIo()), result: { exitCode: 0 } });
  const walk = (command: Command, prefix: string): { path: string; command: Command }[] =>
    command.commands.flatMap((c) => {
      const path = prefix ? `${prefix} ${c.name()}` : c.name();
      return [{ path, command: c }, ...walk(c, path)];
    });
  return walk(program, '');
}

describe('docs/cli.md against the program', () => {
  it.each(commands().map(({ path, command }) => [path, command] as const))(
    'posbridge %s: a section, and every long flag named',
    (path, command) => {
      const top = path.split(' ')[0]!;
      expect(cliDoc, `no section for ${top}`).toMatch(new RegExp(`^### \`posbridge ${top}[ \`|]`, 'm'));
      const doc = docsOf(top);
      const flags = command.options
        .map((o) => o.long)
        .filter((f): f is string => f !== undefined && f !== '--help');
      const missing = flags.filter((flag) => !new RegExp(`${flag}(?![a-z-])`).test(doc));
      expect(missing, `flags of posbridge ${path} missing from the docs`).toEqual([]);
    },
  );
});
