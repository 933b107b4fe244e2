/**
 * The posbridge command line: flags in, engine call, output out. Built from injected deps so the
 * tests run it in-process exactly as a person would.
 */

import { PosbridgeError } from '../host/errors.js';
import { addressCommand } from './addressing.js';
import { Command, CommanderError } from './commander.js';
import { registerConformance } from './commands/conformance.js';
import { registerConsole } from './commands/console.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerDiag } from './commands/diag.js';
import { registerFleet } from './commands/fleet.js';
import { registerHistory } from './commands/history.js';
import { registerInfo } from './commands/info.js';
import { registerMockCommand } from './commands/mock.js';
import { registerOperator } from './commands/operator.js';
import { registerPasswd } from './commands/passwd.js';
import { registerPorts } from './commands/ports.js';
import { registerProvision } from './commands/provision.js';
import { registerScan } from './commands/scan.js';
import { registerStation } from './commands/station.js';
import { registerStatus } from './commands/status.js';
import type { CliDeps, CommonOptions } from './context.js';
import { EXIT } from './exit-codes.js';
import { cwdOf } from './io.js';
import { registerManual } from './manual/commands.js';
import { jsonSafe } from './render.js';
import { reportError } from './run-action.js';
import { resolveCommandPaths } from './user-paths.js';
import { VERSION } from './version.js';

export function buildProgram(deps: CliDeps): Command {
  const program = new Command('posbridge')
    .description('Provision, configure and diagnose POS terminals over serial/USB (TSP/1)')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => deps.io.stdout.write(text),
      writeErr: (text) => deps.io.stderr.write(text),
    })
    .exitOverride()
    // Anywhere on the line (commander takes program options after the command too): colour.ts.
    .option('--no-color', 'no colour on stdout or stderr (also NO_COLOR=1, TERM=dumb)')
    .hook('preAction', (program) => {
      if (program.opts().color === false) deps.io.noColor = true;
    })
    // -p/--port, --sn, POSBRIDGE_PORT or the only terminal connected (addressing.ts).
    .hook('preAction', (_program, command) =>
      addressCommand(
        command,
        deps.io.env,
        async () =>
          (await import('./connected-terminals.js')).connectedTerminals(deps, command.opts<CommonOptions>()),
        (line) => deps.io.stderr.write(line),
      ),
    )
    // Relative paths are the user's, whoever ends up reading them (user-paths.ts).
    .hook('preAction', (_program, command) => resolveCommandPaths(command, cwdOf(deps.io)));
  registerPorts(program, deps);
  registerInfo(program, deps);
  registerProvision(program, deps);
  registerPasswd(program, deps);
  registerOperator(program, deps);
  registerDiag(program, deps);
  registerConsole(program, deps);
  registerConformance(program, deps);
  registerDaemon(program, deps);
  registerStatus(program, deps);
  registerStation(program, deps);
  registerScan(program, deps);
  registerMockCommand(program, deps);
  registerHistory(program, deps);
  registerDemo(program, deps);
  registerManual(program, deps);
  registerFleet(program, deps);
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Run the CLI; resolves to the exit code (never calls process.exit itself). */
export async function runCli(argv: string[], baseDeps: Omit<CliDeps, 'result'>): Promise<number> {
  const deps: CliDeps = { ...baseDeps, result: { exitCode: EXIT.ok } };
  delete deps.io.noColor; // this run's --no-color, not a previous one's (tests reuse one io)
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return deps.result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version: 0. Help shown because a command is missing (`posbridge`,
      // `posbridge operator`) is a usage error: commander gives it exit code 1, we give 2.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code))
        return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      // commander has told people on stderr; --json promises one document on stdout too.
      if (argv.includes('--json')) {
        const message = error.message.replace(/^error: /, '');
        deps.io.stdout.write(`${jsonSafe(JSON.stringify({ error: { code: 'USAGE', message } }, null, 2))}\n`);
      }
      return EXIT.usage;
    }
    // A preAction hook's refusal (addressing.ts): reported like an action's.
    if (error instanceof PosbridgeError)
      return reportError(deps.io, { json: argv.includes('--json') }, error);
    throw error;
  }
}
