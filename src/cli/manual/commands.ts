/**
 * `posbridge completion bash|zsh|fish` prints a completion script; the hidden `__complete sn`
 * gives shells the serial numbers a running daemon knows; the hidden `__build-manual DIR` writes
 * the man page and the three completion scripts into DIR at build time (npm run build), so the
 * package ships them. All are generated from the program's own commander definitions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument, type Command } from 'commander';
import type { CliDeps } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { cwdOf } from '../io.js';
import { runAction } from '../run-action.js';
import { VERSION } from '../version.js';
import { bashCompletion } from './bash.js';
import { complete } from './complete.js';
import { fishCompletion } from './fish.js';
import { manPage } from './roff.js';
import { commandSpec } from './spec.js';
import { zshCompletion } from './zsh.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

const GENERATORS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

/** Where each script goes in the package: the names each shell looks for. */
const SCRIPT_FILES: Record<Shell, string> = {
  bash: 'posbridge.bash',
  zsh: '_posbridge',
  fish: 'posbridge.fish',
};

export function registerManual(program: Command, deps: CliDeps): void {
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText(
      'after',
      `
Example:
  echo 'source <(posbridge completion bash)' >> ~/.bashrc
  posbridge completion zsh > "\${fpath[1]}/_posbridge"
  posbridge completion fish > ~/.config/fish/completions/posbridge.fish
`,
    )
    .action((shell: Shell) =>
      runAction(deps, {}, async () => {
        deps.io.stdout.write(GENERATORS[shell](commandSpec(program), VERSION));
        return EXIT.ok;
      }),
    );

  program
    .command('__complete', { hidden: true })
    .description('for the shell completions: serial numbers of the terminals a running daemon knows')
    .argument('<what>', 'sn')
    .addHelpText('after', '\nExample:\n  posbridge __complete sn\n')
    .action((what: string) =>
      runAction(deps, {}, () => complete([what], deps.io.env, (text) => deps.io.stdout.write(text))),
    );

  program
    .command('__build-manual', { hidden: true })
    .description('write man/posbridge.1 and completions/* under DIR (npm run build)')
    .argument('<dir>', 'where to write (dist)')
    .addHelpText('after', '\nExample:\n  posbridge __build-manual dist\n')
    .action((given: string) =>
      runAction(deps, {}, async () => {
        const dir = resolve(cwdOf(deps.io), given);
        const spec = commandSpec(program);
        mkdirSync(join(dir, 'man'), { recursive: true });
        writeFileSync(
          join(dir, 'man', 'posbridge.1'),
          manPage(spec, { version: VERSION, date: buildDate(deps) }),
        );
        mkdirSync(join(dir, 'completions'), { recursive: true });
        for (const shell of SHELLS)
          writeFileSync(join(dir, 'completions', SCRIPT_FILES[shell]), GENERATORS[shell](spec, VERSION));
        return EXIT.ok;
      }),
    );
}

/** SOURCE_DATE_EPOCH when set (reproducible builds), else today. */
function buildDate(deps: CliDeps): string {
  const epoch = Number(deps.io.env.SOURCE_DATE_EPOCH);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : deps.now();
  return date.toISOString().slice(0, 10);
}
