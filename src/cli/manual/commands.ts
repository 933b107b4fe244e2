/**
 * `posbridge completion bash|zsh|fish` prints a completion script; the hidden `__complete sn`
 * gives shells the serial numbers a running daemon knows; the hidden `__build-manual DIR` writes
 * the man page and the three completion scripts into DIR at build time (npm run build), so the
 * package ships them. All are generated from the program's own commander definitions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument, type Command } from '../commander.js';
import type { CliDeps } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { cwdOf } from '../io.js';
import { runAction } from '../run-action.js';
import { VERSION } from '../version.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** The generators load when one of these commands runs, not with every command line. */
async function generators() {
  const [{ bashCompletion }, { zshCompletion }, { fishCompletion }, { manPage }, { commandSpec }] =
    await Promise.all([
      import('./bash.js'),
      import('./zsh.js'),
      import('./fish.js'),
      import('./roff.js'),
      import('./spec.js'),
    ]);
  return {
    scripts: { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion },
    manPage,
    commandSpec,
  };
}

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
        const { scripts, commandSpec } = await generators();
        deps.io.stdout.write(scripts[shell](commandSpec(program), VERSION));
        return EXIT.ok;
      }),
    );

  program
    .command('__complete', { hidden: true })
    .description('for the shell completions: serial numbers of the terminals a running daemon knows')
    .argument('<what>', 'sn')
    .addHelpText('after', '\nExample:\n  posbridge __complete sn\n')
    .action((what: string) =>
      runAction(deps, {}, async () =>
        (await import('./complete.js')).complete([what], deps.io.env, (text) => deps.io.stdout.write(text)),
      ),
    );

  program
    .command('__build-manual', { hidden: true })
    .description('write man/posbridge.1 and completions/* under DIR (npm run build)')
    .argument('<dir>', 'where to write (dist)')
    .addHelpText('after', '\nExample:\n  posbridge __build-manual dist\n')
    .action((given: string) =>
      runAction(deps, {}, async () => {
        const dir = resolve(cwdOf(deps.io), given);
        const { scripts, manPage, commandSpec } = await generators();
        const spec = commandSpec(program);
        mkdirSync(join(dir, 'man'), { recursive: true });
        writeFileSync(
          join(dir, 'man', 'posbridge.1'),
          manPage(spec, { version: VERSION, date: buildDate(deps) }),
        );
        mkdirSync(join(dir, 'completions'), { recursive: true });
        for (const shell of SHELLS)
          writeFileSync(join(dir, 'completions', SCRIPT_FILES[shell]), scripts[shell](spec, VERSION));
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
