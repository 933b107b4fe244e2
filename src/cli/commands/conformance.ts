/**
 * `posbridge conformance --port P`: the TSP/1 conformance suite (src/conformance) against a
 * terminal someone else implemented. It erases the terminal (RESET at both ends), so it asks
 * first: the person types the serial number, or CI passes --yes-erase-this-terminal; without
 * either (stdin not a terminal) it refuses before opening the port. Not a byte is sent before
 * consent; after a typed serial number only HELLO is sent before the number is compared.
 */
import type { Command } from 'commander';
// The groups' names for the options; the suite and its rendering load when the command runs.
import { GROUPS, type Group, isGroup } from '../../conformance/check.js';
import type { CheckResult, SuiteReport } from '../../conformance/index.js';
import { PosbridgeError } from '../../host/errors.js';
import type { Secret } from '../../host/secret.js';
import { systemTimers } from '../../protocol/index.js';
import {
  addCommonOptions,
  type CliDeps,
  type CommonOptions,
  DEFAULT_TIMEOUT_MS,
  parsePositiveInt,
} from '../context.js';
import { EXIT } from '../exit-codes.js';
import { type CliIo, cwdOf, painter } from '../io.js';
import { checkOutputPath, openTraceFile, writeFileAtomically } from '../output-files.js';
import { printJson, runAction } from '../run-action.js';
import { SecretReader } from '../secrets.js';
import { VERSION } from '../version.js';
import { ADMIN_PASSWORD_SOURCE } from './provision.js';

interface ConformanceOptions extends CommonOptions {
  only?: string;
  list?: boolean;
  junit?: string;
  yesEraseThisTerminal?: boolean;
  adminPasswordStdin?: boolean;
  adminPasswordFile?: string;
  rebootTimeout: number;
}

export function registerConformance(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('conformance'), false)
    .description('the TSP/1 conformance suite: check a terminal against docs/protocol.md (erases it)')
    .option('--only <groups>', `comma-separated groups to run (default all: ${GROUPS.join(',')})`)
    .option('--list', 'list the checks (with --only, those of the groups) and exit; nothing is sent')
    .option('--junit <file>', 'also write the results as JUnit XML to this file')
    .option('--yes-erase-this-terminal', 'consent to the RESETs without a prompt (CI)')
    .option('--admin-password-stdin', "read the terminal's admin password from the first line of stdin")
    .option('--admin-password-file <file>', "read the terminal's admin password from this file")
    .option(
      '--reboot-timeout <ms>',
      'how long a REBOOT may keep the terminal away',
      parsePositiveInt('--reboot-timeout'),
      30_000,
    )
    .addHelpText(
      'after',
      `
The suite RESETs the terminal to factory state at the start and at the end: every password,
setting and operator is erased. It asks for the terminal's serial number first (or takes
--yes-erase-this-terminal); a terminal that no longer has its factory admin password needs that
password (--admin-password-stdin, --admin-password-file or POSBRIDGE_ADMIN_PASSWORD).
Exit 0 when every check passed, 1 when one failed, 3 when the terminal cannot be reached.

Examples:
  posbridge conformance --port /dev/ttyUSB0
  posbridge conformance --port tcp://10.0.0.7:4001 --yes-erase-this-terminal --junit tsp1.xml
  posbridge conformance --list --only auth,lockout
`,
    )
    .action((options: ConformanceOptions) =>
      runAction(deps, options, () => conformanceAction(deps, options)),
    );
}

async function conformanceAction(deps: CliDeps, options: ConformanceOptions): Promise<number> {
  const { io } = deps;
  const groups = parseGroups(options.only);
  const [
    { runSuite, selectChecks },
    { renderCheckList, renderConformanceJunit, renderIdentity, renderResult, renderSummary },
  ] = await Promise.all([import('../../conformance/index.js'), import('../conformance-render.js')]);
  const checks = selectChecks(groups);
  if (options.list) {
    if (options.json)
      printJson(io, {
        kind: 'conformance-checks',
        checks: checks.map(({ id, group, section, title }) => ({ id, group, section, title })),
      });
    else io.stdout.write(renderCheckList(checks));
    return EXIT.ok;
  }
  if (options.port === undefined)
    throw new PosbridgeError('USAGE', 'no port given', {
      hint: 'Name the terminal with --port (or use --list).',
    });
  if (options.socket !== undefined)
    throw new PosbridgeError('USAGE', 'conformance does not run through the daemon', {
      hint: 'The suite needs the raw line: leave out --socket (and stop the daemon if it holds the port).',
    });

  // Everything a person gives is read before the port is opened, so a mistake sends nothing.
  const reader = new SecretReader(io);
  const source = {
    ...ADMIN_PASSWORD_SOURCE,
    stdin: options.adminPasswordStdin,
    file: options.adminPasswordFile,
  };
  const given = source.stdin || source.file || io.env[source.env] ? await reader.read(source) : undefined;
  // Every output is checked before the first byte (output-files.ts).
  const cwd = cwdOf(io);
  const junit =
    options.junit === undefined ? undefined : await checkOutputPath(options.junit, '--junit', { cwd });
  const confirmSn = options.yesEraseThisTerminal ? undefined : await consent(io, options.port);

  const paint = painter(io);
  const logger = deps.createLogger(options);
  const trace =
    options.trace === undefined
      ? undefined
      : await openTraceFile(options.trace, (text) => io.stderr.write(text), { cwd });
  const transport = await deps.openTransport(options, logger).catch(async (error: unknown) => {
    await trace?.close();
    throw error;
  });
  const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
  let report: SuiteReport;
  try {
    report = await runSuite({
      transport,
      checks,
      groups: groups ?? [...GROUPS],
      // Asked only when the terminal no longer holds its factory admin password.
      adminPassword: async (): Promise<Secret | undefined> => given ?? (await reader.read(source, false)),
      timers: systemTimers,
      now: () => deps.now().getTime(),
      timeoutMs,
      diagTimeoutMs: timeoutMs * 5,
      rebootTimeoutMs: options.rebootTimeout,
      // §18: each session's first ID at random in 1-99999999.
      firstId: 1 + (Buffer.from(deps.randomBytes(4)).readUInt32BE(0) % 99_999_999),
      version: VERSION,
      confirmSn,
      trace,
      onIdentity: (identity) => {
        if (!options.json) io.stdout.write(renderIdentity(identity, options.port!, paint));
      },
      onResult: (result: CheckResult) => {
        if (!options.json) io.stdout.write(renderResult(result, paint));
      },
    });
  } finally {
    await transport.close().catch(() => undefined);
    await trace?.close();
  }
  if (options.json) printJson(io, report);
  else io.stdout.write(renderSummary(report, paint));
  const code = exitCode(report);
  if (junit) {
    try {
      await writeFileAtomically(junit, renderConformanceJunit(report), '--junit');
    } catch (error) {
      // The run is over; only the file is lost: say so, and fail the run.
      const why = error instanceof PosbridgeError ? error.message : (error as NodeJS.ErrnoException).code;
      io.stderr.write(`error: cannot write the JUnit report ${junit}: ${why ?? String(error)}\n`);
      return Math.max(code, EXIT.refused);
    }
    if (!options.json) io.stdout.write(`JUnit report written to ${junit}\n`);
  }
  return code;
}

/** 0 only when every check passed and the terminal was RESET at the end; 3 when the link went away. */
function exitCode(report: SuiteReport): number {
  if (report.stopped?.reason === 'link-lost') return EXIT.unreachable;
  const passed = report.counts.fail === 0 && report.counts.skip === 0 && !report.stopped;
  return passed && report.finalReset === 'done' ? EXIT.ok : EXIT.refused;
}

function parseGroups(only: string | undefined): Group[] | undefined {
  if (only === undefined) return undefined;
  const names = only.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isGroup(name));
  if (unknown.length > 0 || names.length === 0)
    throw new PosbridgeError('USAGE', `unknown check group ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      hint: `--only takes groups from ${GROUPS.join(', ')}.`,
    });
  return GROUPS.filter((group) => names.includes(group));
}

/**
 * The person types the terminal's serial number (from its label, or posbridge info). Without a
 * terminal on stdin there is nobody to ask: refused, before the port is opened.
 */
async function consent(io: CliIo, port: string): Promise<string> {
  if (!io.stdin.isTTY)
    throw new PosbridgeError('USAGE', 'the conformance suite erases the terminal, and nobody was asked', {
      hint: 'Run it in a terminal to be asked, or pass --yes-erase-this-terminal (CI). Nothing was sent.',
    });
  io.stderr.write(
    `posbridge conformance RESETs the terminal on ${port} to factory state, at the start and at the end:\n` +
      'every password, setting and operator on it is erased.\n' +
      'Type its serial number (on its label, or from posbridge info) to go on: ',
  );
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of rl) {
      const typed = line.trim();
      if (typed !== '') return typed;
      break;
    }
  } finally {
    rl.close();
  }
  throw new PosbridgeError('USAGE', 'no serial number typed: nothing was sent');
}
