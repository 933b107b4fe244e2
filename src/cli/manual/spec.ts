/**
 * The command line as data, read from the commander definitions (buildProgram): every visible
 * command and subcommand, its options, the values they take and how to complete them. The shell
 * completions and the man page are generated from this one walk, so a flag added to a command
 * shows up in all of them at once (docs/cli.md, "Completion and manual page").
 */
import type { Argument, Command, Option } from 'commander';

/** How an option's value (or an argument) is completed. */
export type ValueKind =
  /** A fixed list (`--log-level`, `--format`, `completion SHELL`). */
  | { kind: 'choices'; choices: readonly string[] }
  /** A terminal port: serial devices, plus the tcp:// mock:// rfc2217:// telnet:// prefixes. */
  | { kind: 'port' }
  /** A serial number of a terminal the daemon knows (`posbridge __complete sn`). */
  | { kind: 'sn' }
  /** A path on disk. */
  | { kind: 'file' }
  /** Free text: nothing to offer. */
  | { kind: 'text' };

export interface OptionSpec {
  /** `-p`, when it has one. */
  short?: string;
  /** `--port`. */
  long: string;
  /** The option as help shows it: `--port <port>`. */
  flags: string;
  description: string;
  /** Undefined for a switch (`--json`); how to complete it for an option that takes a value. */
  value?: ValueKind;
}

export interface ArgumentSpec {
  name: string;
  required: boolean;
  value: ValueKind;
}

export interface CommandSpec {
  name: string;
  /** From the program down: `['operator', 'add']` (empty for the program itself). */
  path: string[];
  description: string;
  /** The usage line's arguments part: `[options] <shell>`. */
  usage: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  commands: CommandSpec[];
  /** What the command's help prints after the options (its examples), as written. */
  after: string;
}

/** Ports a person types by hand: the schemes posbridge opens besides device paths (docs/cli.md). */
export const PORT_SCHEMES = ['tcp://', 'mock://', 'rfc2217://', 'telnet://'] as const;

/** Where serial devices appear; shells glob these at completion time. */
export const PORT_GLOBS = ['/dev/ttyUSB*', '/dev/ttyACM*', '/dev/serial/by-id/*'] as const;

const FILE_VALUE = /^(file|path|dir|trace|manifest|profile)$/;

export function commandSpec(command: Command, path: string[] = []): CommandSpec {
  const help = command.createHelp();
  return {
    name: command.name(),
    path,
    description: command.description(),
    usage: command.usage(),
    options: help
      .visibleOptions(command)
      .filter((option) => option.long !== undefined)
      .map((option) => optionSpec(option, path)),
    arguments: command.registeredArguments.map(argumentSpec),
    commands: help
      .visibleCommands(command)
      // commander's implicit `help [command]` is made on the fly, not one of ours.
      .filter((sub) => command.commands.includes(sub))
      .map((sub) => commandSpec(sub, [...path, sub.name()])),
    after: afterHelp(command),
  };
}

function optionSpec(option: Option, path: string[]): OptionSpec {
  const takesValue = option.required || option.optional;
  return {
    ...(option.short !== undefined && { short: option.short }),
    long: option.long!,
    flags: option.flags,
    description: option.description,
    ...(takesValue && { value: valueKindOf(option, path) }),
  };
}

function argumentSpec(argument: Argument): ArgumentSpec {
  return {
    name: argument.name(),
    required: argument.required,
    value: argument.argChoices ? { kind: 'choices', choices: argument.argChoices } : { kind: 'text' },
  };
}

/** The choices a parser carries (context.ts `oneOf`), or commander's own `.choices()`. */
function choicesOf(option: Option): readonly string[] | undefined {
  const parser = option.parseArg as { choices?: readonly string[] } | undefined;
  return option.argChoices ?? parser?.choices;
}

function valueKindOf(option: Option, path: string[]): ValueKind {
  const choices = choicesOf(option);
  if (choices) return { kind: 'choices', choices };
  if (option.long === '--port') return { kind: 'port' };
  // `mock --sn` gives the mock a new serial number; everywhere else --sn names a known terminal.
  if (option.long === '--sn' && path[0] !== 'mock') return { kind: 'sn' };
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '';
  if (FILE_VALUE.test(valueName) || ['--state', '--replay', '--device', '--pty'].includes(option.long!))
    return { kind: 'file' };
  return { kind: 'text' };
}

/** The text `addHelpText('after', ...)` adds to the command's help (its examples). */
function afterHelp(command: Command): string {
  const saved = command.configureOutput();
  let text = '';
  command.configureOutput({ ...saved, writeOut: (chunk) => (text += chunk) });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(saved);
  }
  return text.slice(command.helpInformation().length).replace(/^\n+/, '').replace(/\s+$/, '');
}

/** Every command of the tree, the program first, depth first. */
export function allSpecs(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.commands.flatMap(allSpecs)];
}
