import type { Command } from 'commander';
import type { OperatorAction } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { Secret } from '../../host/secret.js';
import { generatePassword } from '../../host/workflow/generate-password.js';
import {
  checkPassword,
  isTextWithin,
  OPERATOR_ID,
  PASSWORD_PROBLEM_TEXT,
  type Permission,
  parsePermissions,
} from '../../protocol/index.js';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { credentialsRecorder } from '../credentials-file.js';
import { EXIT } from '../exit-codes.js';
import { cwdOf, painter } from '../io.js';
import { prepareCredentialsFile } from '../output-files.js';
import { renderOperators } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { SecretReader } from '../secrets.js';
import { ADMIN_PASSWORD_SOURCE, CREDENTIALS_OUT_HELP } from './provision.js';
import { withEngine } from './with-engine.js';

interface OperatorOptions extends CommonOptions {
  id?: string;
  name?: string;
  perms?: string;
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
  passwordStdin?: boolean;
  passwordFile?: string;
  generatePassword?: boolean;
  credentialsOut?: string;
}

export function registerOperator(program: Command, deps: CliDeps): void {
  const operator = program
    .command('operator')
    .description('list, add, change or delete operator sub-accounts')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge operator list --port /dev/ttyUSB0 --admin-password-file ~/.pos-admin\n',
    );

  const withAdmin = (command: Command) =>
    addCommonOptions(command)
      .option('--admin-password-stdin', 'read the admin password from the first line of stdin')
      .option('--admin-password-file <file>', 'read the admin password from this file');

  withAdmin(operator.command('list'))
    .description('list the operators')
    .addHelpText('after', '\nExample:\n  posbridge operator list --port mock://demo --json\n')
    .action((options: OperatorOptions) => run(deps, options, async () => ({ action: 'list' })));

  withAdmin(operator.command('add'))
    .description('create an operator; it must change its password at first login')
    .requiredOption('--id <id>', 'two digits 01-99')
    .requiredOption('--name <text>', 'display name (1-32 bytes)')
    .requiredOption('--perms <list>', 'comma-separated: sale,refund,query,report,settings')
    .option(
      '--password-stdin',
      "read the operator's first password from stdin (after the admin password, if both)",
    )
    .option('--password-file <file>', "read the operator's first password from this file")
    .option('--generate-password', 'generate a strong first password and append it to --credentials-out')
    .option('--credentials-out <file>', CREDENTIALS_OUT_HELP)
    .addHelpText(
      'after',
      '\nExample:\n  posbridge operator add --port /dev/ttyUSB0 --id 02 --name Cashier --perms sale,query --generate-password\n',
    )
    .action((options: OperatorOptions) =>
      run(deps, options, async (reader, kept) => {
        const id = checkId(options.id);
        const name = checkName(options.name);
        const perms = checkPerms(options.perms);
        let password: Secret;
        if (options.generatePassword) {
          // Kept before it is sent (checked, created 0600, no link followed): output-files.ts.
          const file = await prepareCredentialsFile(options.credentialsOut, deps.io.env, cwdOf(deps.io));
          password = generatePassword(deps.randomBytes);
          await credentialsRecorder(file, () => undefined, deps.now)(id, password);
          kept.credentialsFile = file;
        } else {
          password = (await reader.read({
            env: 'POSBRIDGE_OPERATOR_PASSWORD',
            label: 'operator password',
            flags: '--password-stdin, --password-file FILE or --generate-password',
            stdin: options.passwordStdin,
            file: options.passwordFile,
            confirm: true,
          })) as Secret;
          const problem = checkPassword(password.reveal());
          if (problem)
            throw new PosbridgeError('USAGE', `the operator password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
              hint: 'choose another; nothing was sent',
            });
        }
        return { action: 'add', id, name, perms, password };
      }),
    );

  withAdmin(operator.command('set'))
    .description("change an operator's name or permissions")
    .requiredOption('--id <id>', 'two digits 01-99')
    .option('--name <text>', 'new display name')
    .option('--perms <list>', 'new permissions')
    .addHelpText(
      'after',
      '\nExample:\n  posbridge operator set --port /dev/ttyUSB0 --id 02 --perms sale,refund,query\n',
    )
    .action((options: OperatorOptions) =>
      run(deps, options, async () => {
        if (options.name === undefined && options.perms === undefined)
          throw new PosbridgeError('USAGE', 'give --name, --perms or both');
        return {
          action: 'set',
          id: checkId(options.id),
          ...(options.name !== undefined && { name: checkName(options.name) }),
          ...(options.perms !== undefined && { perms: checkPerms(options.perms) }),
        };
      }),
    );

  withAdmin(operator.command('del'))
    .description('delete an operator')
    .requiredOption('--id <id>', 'two digits 01-99')
    .addHelpText('after', '\nExample:\n  posbridge operator del --port /dev/ttyUSB0 --id 02\n')
    .action((options: OperatorOptions) =>
      run(deps, options, async () => ({ action: 'del', id: checkId(options.id) })),
    );
}

async function run(
  deps: CliDeps,
  options: OperatorOptions,
  /** `kept`: where `add --generate-password` kept the password (printed with the report). */
  build: (reader: SecretReader, kept: { credentialsFile?: string }) => Promise<OperatorAction>,
): Promise<void> {
  return runAction(deps, options, async () => {
    const reader = new SecretReader(deps.io);
    const adminPassword = await reader.read(
      { ...ADMIN_PASSWORD_SOURCE, stdin: options.adminPasswordStdin, file: options.adminPasswordFile },
      false,
    );
    const kept: { credentialsFile?: string } = {};
    const operation = await build(reader, kept);
    const credentialsFile = kept.credentialsFile;
    return withEngine(deps, options, async (engine) => {
      const report = await engine.operator({
        port: options.port!,
        ...(adminPassword && { adminPassword }),
        operation,
      });
      if (options.json) printJson(deps.io, credentialsFile ? { ...report, credentialsFile } : report);
      else {
        deps.io.stdout.write(renderOperators(report, painter(deps.io)));
        if (credentialsFile)
          deps.io.stdout.write(`operator first password written to ${credentialsFile} (owner-only)\n`);
      }
      return EXIT.ok;
    });
  });
}

function checkId(id: string | undefined): string {
  if (!id || !OPERATOR_ID.test(id))
    throw new PosbridgeError('USAGE', `--id must be two digits 01-99, not "${id ?? ''}"`);
  return id;
}

function checkName(name: string | undefined): string {
  if (name === undefined || !isTextWithin(name, 1, 32))
    throw new PosbridgeError('USAGE', '--name must be 1 to 32 bytes of UTF-8 text');
  return name;
}

function checkPerms(list: string | undefined): Permission[] {
  const perms = list === undefined ? undefined : parsePermissions(list);
  if (!perms)
    throw new PosbridgeError(
      'USAGE',
      `--perms must list some of sale,refund,query,report,settings without repeats, not "${list ?? ''}"`,
    );
  return perms;
}
