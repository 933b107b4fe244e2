import type { Command } from 'commander';
import { PosbridgeError } from '../../host/errors.js';
import type { Secret } from '../../host/secret.js';
import { checkPassword, OPERATOR_ID, PASSWORD_PROBLEM_TEXT } from '../../protocol/index.js';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { renderPasswd } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { SecretReader } from '../secrets.js';
import { ADMIN_PASSWORD_SOURCE } from './provision.js';
import { withEngine } from './with-engine.js';

interface PasswdOptions extends CommonOptions {
  user: string;
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
  newPasswordStdin?: boolean;
  newPasswordFile?: string;
}

export function registerPasswd(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('passwd'))
    .description("change the admin password, or set an operator's (who must change it at first login)")
    .option('--user <id>', 'admin, or an operator id 01-99', 'admin')
    .option('--admin-password-stdin', 'read the current admin password from stdin (first line)')
    .option('--admin-password-file <file>', 'read the current admin password from this file')
    .option(
      '--new-password-stdin',
      'read the new password from stdin (the line after the admin password, if both)',
    )
    .option('--new-password-file <file>', 'read the new password from this file')
    .addHelpText(
      'after',
      `
Secrets: current admin password from --admin-password-stdin/-file or POSBRIDGE_ADMIN_PASSWORD;
new password from --new-password-stdin/-file or POSBRIDGE_NEW_PASSWORD; or hidden prompts.

Example:
  printf 'Adm1n-2026\\nN3w-Adm1n-27\\n' | posbridge passwd --port /dev/ttyUSB0 --admin-password-stdin --new-password-stdin
  posbridge passwd --port /dev/ttyUSB0 --user 02 --admin-password-file ~/.pos-admin --new-password-file ./op02
`,
    )
    .action((options: PasswdOptions) =>
      runAction(deps, options, async () => {
        if (options.user !== 'admin' && !OPERATOR_ID.test(options.user)) {
          throw new PosbridgeError(
            'USAGE',
            `--user must be admin or two digits 01-99, not "${options.user}"`,
          );
        }
        const reader = new SecretReader(deps.io);
        const adminPassword = (await reader.read({
          ...ADMIN_PASSWORD_SOURCE,
          stdin: options.adminPasswordStdin,
          file: options.adminPasswordFile,
        })) as Secret;
        const newPassword = (await reader.read({
          env: 'POSBRIDGE_NEW_PASSWORD',
          label: 'new password',
          prompt: `new password for ${options.user === 'admin' ? 'the admin' : `operator ${options.user}`}`,
          flags: '--new-password-stdin or --new-password-file FILE',
          stdin: options.newPasswordStdin,
          file: options.newPasswordFile,
          confirm: true,
        })) as Secret;
        const problem = checkPassword(
          newPassword.reveal(),
          options.user === 'admin' ? adminPassword.reveal() : undefined,
        );
        if (problem)
          throw new PosbridgeError('USAGE', `the new password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
            hint: 'choose another; nothing was sent',
          });
        return withEngine(deps, options, async (engine) => {
          const report = await engine.passwd({
            port: options.port!,
            user: options.user,
            adminPassword,
            newPassword,
          });
          if (options.json) printJson(deps.io, report);
          else deps.io.stdout.write(renderPasswd(report, painter(deps.io)));
          return EXIT.ok;
        });
      }),
    );
}
