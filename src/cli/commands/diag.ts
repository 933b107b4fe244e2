import type { Command } from 'commander';
import type { DiagReport } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { DiagCheckResult } from '../../host/workflow/terminal-ops.js';
import { DIAG_CHECK_ORDER, isDiagCheck } from '../../protocol/index.js';
import { CheckProgress, liveProgress } from '../check-progress.js';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { renderDiag, visible } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { SecretReader } from '../secrets.js';
import { ADMIN_PASSWORD_SOURCE } from './provision.js';
import { withEngine } from './with-engine.js';

interface DiagOptions extends CommonOptions {
  checks?: string;
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
}

export function registerDiag(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('diag'))
    .description('run the self-diagnostics; exit 0 if no check failed, 1 if one did')
    .option('--checks <list>', `comma-separated checks (default all: ${DIAG_CHECK_ORDER.join(',')})`)
    .option('--admin-password-stdin', 'read the admin password from the first line of stdin')
    .option('--admin-password-file <file>', 'read the admin password from this file')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge diag --port /dev/ttyUSB0 --checks printer,network --admin-password-file ~/.pos-admin\n',
    )
    .action((options: DiagOptions) =>
      runAction(deps, options, async () => {
        const checks = options.checks?.split(',');
        const unknown = checks?.find((c) => !isDiagCheck(c));
        if (unknown !== undefined) {
          throw new PosbridgeError('USAGE', `unknown check "${unknown}"`, {
            hint: `known checks: ${DIAG_CHECK_ORDER.join(', ')}`,
          });
        }
        const adminPassword = await new SecretReader(deps.io).read(
          { ...ADMIN_PASSWORD_SOURCE, stdin: options.adminPasswordStdin, file: options.adminPasswordFile },
          false,
        );
        const paint = painter(deps.io);
        return withEngine(deps, options, async (engine) => {
          // Each check as it arrives: a full DIAG takes seconds (check-progress.ts).
          const progress = options.json
            ? undefined
            : new CheckProgress(
                deps.io.stdout,
                liveProgress(deps.io),
                paint,
                checks ?? DIAG_CHECK_ORDER,
                `diagnostics on ${visible(options.port!)} (each check as it finishes):\n`,
              );
          progress?.start();
          let report: DiagReport;
          try {
            report = await engine.diag(
              { port: options.port!, ...(adminPassword && { adminPassword }), ...(checks && { checks }) },
              { ...(progress && { on: { check: (result: DiagCheckResult) => progress.check(result) } }) },
            );
          } finally {
            progress?.stop();
          }
          if (options.json) printJson(deps.io, report);
          else deps.io.stdout.write(renderDiag(report, paint, (progress?.printed ?? 0) > 0));
          return report.diagnostics.fail > 0 ? EXIT.refused : EXIT.ok;
        });
      }),
    );
}
