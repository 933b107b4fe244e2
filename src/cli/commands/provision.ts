import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PosbridgeError } from '../../host/errors.js';
import { Secret } from '../../host/secret.js';
import type { Profile } from '../../host/workflow/profile.js';
import type { DiagCheckResult } from '../../host/workflow/terminal-ops.js';
import {
  checkPassword,
  DIAG_CHECK_ORDER,
  isTextWithin,
  MERCHANT_NUMBER,
  PASSWORD_PROBLEM_TEXT,
  TERMINAL_NUMBER,
} from '../../protocol/index.js';
import { CheckProgress, liveProgress } from '../check-progress.js';
import { addCommonOptions, type CliDeps, type CommonOptions } from '../context.js';
import { credentialsRecorder } from '../credentials-file.js';
import { exitCodeForReport } from '../exit-codes.js';
import { cwdOf, painter } from '../io.js';
import { prepareCredentialsFile } from '../output-files.js';
import { renderProvisionSummary, renderStep } from '../render.js';
import { printJson, runAction } from '../run-action.js';
import { SecretReader } from '../secrets.js';
import { withEngine } from './with-engine.js';

interface ProvisionOptions extends CommonOptions {
  merchant: string;
  terminal: string;
  name?: string;
  profile?: string;
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
  technician?: string;
  station?: string;
  dryRun?: boolean;
  credentialsOut?: string;
}

export const CREDENTIALS_OUT_HELP =
  'append generated operator passwords here (mode 0600; default: $XDG_STATE_HOME/posbridge/operator-passwords.txt, else ~/.local/state/posbridge/...)';

export const ADMIN_PASSWORD_SOURCE = {
  env: 'POSBRIDGE_ADMIN_PASSWORD',
  label: 'admin password',
  // Every command but provision and station logs in with the password the terminal has now.
  prompt: 'current admin password of the terminal',
  flags: '--admin-password-stdin or --admin-password-file FILE',
};

/** provision and station set a new one: the prompt must not read as "type the current one". */
export const NEW_ADMIN_PASSWORD_PROMPT = 'new admin password to set (replaces the factory one)';

export function registerProvision(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('provision'))
    .description(
      'the whole job: log in safely, replace the factory password, bind the numbers, set clock, settings and operators, run the diagnostics; resumable',
    )
    .requiredOption('--merchant <number>', 'merchant number issued by the acquirer (15 digits)')
    .requiredOption('--terminal <number>', 'terminal number issued by the acquirer (8 digits)')
    .option('--name <text>', 'merchant name shown by the terminal (1-40 bytes)')
    .option('--profile <file>', 'settings and operators, JSON or YAML (see docs/cli.md)')
    .option('--admin-password-stdin', 'read the new admin password from the first line of stdin')
    .option('--admin-password-file <file>', 'read the new admin password from the first line of this file')
    .option('--technician <name>', 'who does the work, for the record (default: the OS user)')
    .option(
      '--station <name>',
      "where, for the record (default: the daemon's station when going through it, else the host name)",
    )
    .option('--dry-run', 'read the terminal and print the plan; change nothing, send no password')
    .option('--credentials-out <file>', CREDENTIALS_OUT_HELP)
    .addHelpText(
      'after',
      `
The new admin password comes from stdin, a file, POSBRIDGE_ADMIN_PASSWORD or a hidden prompt
(asked twice); never from the command line. Running again after an interruption finishes the job;
running on a provisioned terminal changes nothing.

Example:
  printf 'Adm1n-2026\\n' | posbridge provision --port /dev/ttyUSB0 \\
      --merchant 822100052110023 --terminal 10023456 --admin-password-stdin
  posbridge provision --port mock://demo --merchant 822100052110023 --terminal 10023456 --dry-run
`,
    )
    .action((options: ProvisionOptions) => runAction(deps, options, () => provisionAction(deps, options)));
}

async function provisionAction(deps: CliDeps, options: ProvisionOptions): Promise<number> {
  const { io } = deps;
  const paint = painter(io);
  validateNumbers(options);
  // The profile's schema (zod, YAML) loads when a provisioning runs, not with the command line.
  const { DEFAULT_PROFILE } = await import('../../host/workflow/profile.js');
  const { loadProfile } = await import('../../host/workflow/profile-file.js');
  const profile: Profile = options.profile ? await loadProfile(options.profile) : DEFAULT_PROFILE;
  const secrets = new SecretReader(io);
  // A dry run sends no password, so it needs none (but checks one if given).
  const adminPassword = await secrets.read(
    {
      ...ADMIN_PASSWORD_SOURCE,
      prompt: NEW_ADMIN_PASSWORD_PROMPT,
      stdin: options.adminPasswordStdin,
      file: options.adminPasswordFile,
      confirm: true,
    },
    options.dryRun !== true,
  );
  const problem = adminPassword && checkPassword(adminPassword.reveal());
  if (problem) {
    throw new PosbridgeError('USAGE', `the new admin password ${PASSWORD_PROBLEM_TEXT[problem]}`, {
      hint: 'choose 6-32 printable characters, not a default, a repeat or a straight run; nothing was sent',
    });
  }
  const operatorSecrets = await readOperatorSecrets(profile, io.env);
  // Every output is checked before the first byte (output-files.ts); --trace by withEngine.
  const credentialsFile = await prepareCredentialsFile(options.credentialsOut, io.env, cwdOf(io));
  let sn: string | undefined;
  let generatedTo: string | undefined;
  // The diagnostics step shows each check as it arrives (check-progress.ts).
  const progress = options.json
    ? undefined
    : new CheckProgress(io.stdout, liveProgress(io), paint, profile.diagChecks ?? DIAG_CHECK_ORDER);
  return withEngine(deps, options, async (engine, runtime) => {
    if (!options.json)
      io.stdout.write(`${options.dryRun ? 'planning' : 'provisioning'} ${options.port} ...\n`);
    // However the run ends there is a report (a stop is its outcome); what could not start throws.
    const report = await engine
      .provision(
        {
          request: {
            port: options.port!,
            merchant: options.merchant,
            terminal: options.terminal,
            ...(options.name !== undefined && { name: options.name }),
            ...(adminPassword && { adminPassword }),
            profile,
            technician: options.technician ?? deps.user(),
            station: options.station ?? runtime.about.station ?? deps.hostname(),
            dryRun: options.dryRun === true,
          },
          operatorPasswords: Object.fromEntries(operatorSecrets),
        },
        {
          on: {
            identified: (terminal) => {
              sn = terminal.sn;
            },
            step: (step) => {
              progress?.stop();
              if (!options.json) io.stdout.write(renderStep(step, paint));
            },
            ...(progress && { check: (result: DiagCheckResult) => progress.check(result) }),
            // Kept before it is sent: the run waits for this (credentials-file.ts).
            generated: async ({ id, password }) => {
              await credentialsRecorder(credentialsFile, () => sn, deps.now)(id, password);
              generatedTo = credentialsFile;
            },
          },
        },
      )
      // The live check line ends with the run, also when it cannot start.
      .finally(() => progress?.stop());
    if (generatedTo) report.credentialsFile = generatedTo;
    if (options.json) printJson(io, report);
    else io.stdout.write(renderProvisionSummary(report, paint));
    return exitCodeForReport(report);
  });
}

function validateNumbers(options: ProvisionOptions): void {
  if (!MERCHANT_NUMBER.test(options.merchant)) {
    throw new PosbridgeError('USAGE', `--merchant must be 15 digits, not "${options.merchant}"`, {
      hint: 'copy it from the acquirer sheet; nothing was sent',
    });
  }
  if (!TERMINAL_NUMBER.test(options.terminal)) {
    throw new PosbridgeError('USAGE', `--terminal must be 8 digits, not "${options.terminal}"`, {
      hint: 'copy it from the acquirer sheet; nothing was sent',
    });
  }
  if (options.name !== undefined && !isTextWithin(options.name, 1, 40)) {
    throw new PosbridgeError('USAGE', '--name must be 1 to 40 bytes of UTF-8 text', {
      hint: 'shorten it; nothing was sent',
    });
  }
}

/** Operator passwords named by the profile (env or file) are read and checked before any byte is sent. */
async function readOperatorSecrets(profile: Profile, env: NodeJS.ProcessEnv): Promise<Map<string, Secret>> {
  const secrets = new Map<string, Secret>();
  for (const operator of profile.operators) {
    const source = operator.password;
    if (source === 'generate') continue;
    let value: string | undefined;
    if ('env' in source) value = env[source.env];
    else value = (await readFile(source.file, 'utf8').catch(() => undefined))?.split(/\r?\n/)[0];
    const where = 'env' in source ? `environment variable ${source.env}` : `file ${source.file}`;
    if (!value)
      throw new PosbridgeError(
        'USAGE',
        `the password of operator ${operator.id} should come from ${where}, which is empty or missing`,
        { hint: 'set it, or use "generate" in the profile' },
      );
    const problem = checkPassword(value);
    if (problem)
      throw new PosbridgeError(
        'USAGE',
        `the password of operator ${operator.id} (from ${where}) ${PASSWORD_PROBLEM_TEXT[problem]}`,
        { hint: 'choose a stronger one; nothing was sent' },
      );
    secrets.set(operator.id, new Secret(value));
  }
  return secrets;
}
