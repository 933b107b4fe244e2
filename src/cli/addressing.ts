/**
 * Which terminal a command talks to, as adb and esptool let people say it (docs/cli.md,
 * "Choosing the terminal"): `-p/--port P`, else `--sn SN` (the connected terminal with that
 * serial number), else POSBRIDGE_PORT, else the only terminal connected (said on stderr). With
 * several connected and none named, they are listed and nothing is sent to any (exit 2).
 */
import type { Command } from 'commander';
import { PosbridgeError } from '../host/errors.js';
import type { TerminalInfo } from '../host/hub.js';
import type { ConnectedTerminals } from './connected-terminals.js';
import { visible } from './render.js';

/** Commands whose --port is resolved here (the ones that talk to one terminal). */
const ADDRESSED = new WeakSet<Command>();

export function markAddressed(command: Command): Command {
  ADDRESSED.add(command);
  return command;
}

export function isAddressed(command: Command): boolean {
  return ADDRESSED.has(command);
}

export interface AddressRequest {
  port?: string | undefined;
  sn?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * The port to use. `find` lists the connected terminals (called only when neither a port nor
 * POSBRIDGE_PORT decides); `say` tells the person which terminal was picked for them.
 */
export async function resolveAddress(
  request: AddressRequest,
  find: () => Promise<ConnectedTerminals>,
  say: (line: string) => void,
): Promise<string> {
  const { port, sn, env } = request;
  if (port !== undefined && sn !== undefined)
    throw new PosbridgeError('USAGE', '--port and --sn both name a terminal: give one of them', {
      hint: 'nothing was sent',
    });
  if (port !== undefined) return port;
  if (sn !== undefined) return bySerialNumber(sn, await find(), say);
  const fromEnv = env.POSBRIDGE_PORT;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  let found: ConnectedTerminals;
  try {
    found = await find();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PosbridgeError(
      'USAGE',
      `no --port given, and the connected terminals cannot be listed: ${reason}`,
      {
        hint: 'name the terminal with -p/--port P (or POSBRIDGE_PORT)',
        cause: error,
      },
    );
  }
  const { terminals, source } = found;
  if (terminals.length === 1) {
    const only = terminals[0]!;
    say(
      `posbridge: no --port given: using ${describe(only)}, the only terminal connected (found by ${source})\n`,
    );
    return only.port;
  }
  if (terminals.length === 0)
    throw new PosbridgeError(
      'USAGE',
      `no --port given, and no terminal is connected (checked by ${source})`,
      {
        hint: "name the port with -p/--port P or POSBRIDGE_PORT (posbridge ports lists serial ports; only allow-listed USB IDs and the config's ports are looked at)",
      },
    );
  throw new PosbridgeError(
    'USAGE',
    `no --port given, and ${terminals.length} terminals are connected (found by ${source}):\n${list(terminals)}`,
    {
      hint: 'choose one with -p/--port P or --sn SN (or POSBRIDGE_PORT); none was changed (only HELLO and STATUS were read)',
      details: { terminals: terminals.map(brief) },
    },
  );
}

function bySerialNumber(sn: string, found: ConnectedTerminals, say: (line: string) => void): string {
  const matches = found.terminals.filter((t) => t.hello?.sn === sn);
  if (matches.length === 1) {
    say(`posbridge: --sn ${visible(sn)}: using ${describe(matches[0]!)}, found by ${found.source}\n`);
    return matches[0]!.port;
  }
  if (matches.length > 1)
    throw new PosbridgeError(
      'USAGE',
      `${matches.length} connected terminals report serial number ${sn} (found by ${found.source}):\n${list(matches)}`,
      { hint: 'choose one with -p/--port P' },
    );
  const seen =
    found.terminals.length === 0 ? 'no terminal is connected' : `connected:\n${list(found.terminals)}`;
  throw new PosbridgeError(
    'PORT_NOT_FOUND',
    `no connected terminal has serial number ${sn} (checked by ${found.source}); ${seen}`,
    {
      hint: 'check the serial number on the label, that the terminal is plugged in, and that its port is allow-listed (docs/daemon.md)',
    },
  );
}

function describe(terminal: TerminalInfo): string {
  return visible(`${terminal.port} (${terminal.hello?.model ?? '?'} sn ${terminal.hello?.sn ?? '?'})`);
}

function list(terminals: TerminalInfo[]): string {
  return terminals
    .map((t) => `  ${t.port}  ${t.hello?.model ?? '?'} sn ${t.hello?.sn ?? '?'}`)
    .sort()
    .join('\n');
}

function brief(terminal: TerminalInfo): { port: string; model?: string; sn?: string } {
  return {
    port: terminal.port,
    ...(terminal.hello && { model: terminal.hello.model, sn: terminal.hello.sn }),
  };
}

/** The preAction hook: sets the command's --port before its action runs (program.ts). */
export async function addressCommand(
  command: Command,
  env: NodeJS.ProcessEnv,
  find: () => Promise<ConnectedTerminals>,
  say: (line: string) => void,
): Promise<void> {
  if (!isAddressed(command)) return;
  const options = command.opts<{ port?: string; sn?: string }>();
  const port = await resolveAddress({ port: options.port, sn: options.sn, env }, find, say);
  command.setOptionValue('port', port);
}
