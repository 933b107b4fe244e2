import type { Command } from 'commander';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { renderInfo } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { withEngine } from './with-engine.js';

export function registerInfo(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('info'))
    .description('identity and status of one terminal (no login, no attempt spent)')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge info --port /dev/ttyUSB0\n  posbridge info --port mock://demo --json\n',
    )
    .action((options: CommonOptions) =>
      runAction(deps, options, () =>
        withEngine(deps, options, async (engine) => {
          const report = await engine.info({ port: options.port! });
          if (options.json) printJson(deps.io, report);
          else deps.io.stdout.write(renderInfo(report, painter(deps.io)));
          return EXIT.ok;
        }),
      ),
    );
}
