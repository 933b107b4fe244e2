/**
 * The fish completions, from the command tree (spec.ts): one `complete` line per command and per
 * option, conditioned on the command being typed. Ports are globbed and serial numbers asked of
 * the daemon at completion time.
 */
import { allSpecs, type CommandSpec, type OptionSpec, PORT_GLOBS, PORT_SCHEMES } from './spec.js';

export function fishCompletion(program: CommandSpec, version: string): string {
  const lines: string[] = [];
  for (const spec of allSpecs(program)) {
    const at = quote(['__posbridge_at', ...spec.path].join(' '));
    const exactly = quote(['__posbridge_at', '--exactly', ...spec.path].join(' '));
    for (const command of spec.commands)
      lines.push(
        `complete -c posbridge -n ${exactly} -a ${quote(command.name)} -d ${quote(command.description)}`,
      );
    // The program's own options (--version) only before a command; a command's, anywhere after it.
    const where = spec.path.length === 0 ? exactly : at;
    for (const option of spec.options) lines.push(optionLine(option, where));
    const argument = spec.arguments[0];
    if (argument?.value.kind === 'choices')
      lines.push(`complete -c posbridge -n ${exactly} -x -a ${quote(argument.value.choices.join(' '))}`);
  }
  return `# fish completion for posbridge ${version}, generated from its commands (posbridge completion fish).
# Install: posbridge completion fish > ~/.config/fish/completions/posbridge.fish

# True when the words typed so far name this command (--exactly: and no subcommand of it yet).
function __posbridge_at
    set -l exact 0
    if test "$argv[1]" = --exactly
        set exact 1
        set -e argv[1]
    end
    set -l words (commandline -opc)
    set -e words[1]
    set -l path
    for word in $words
        string match -q -- '-*' $word; and continue
        set -a path $word
    end
    test (count $path) -ge (count $argv); or return 1
    for i in (seq (count $argv))
        test "$path[$i]" = "$argv[$i]"; or return 1
    end
    test $exact = 0; or test (count $path) -eq (count $argv)
end

# Serial devices present now, and the port schemes typed by hand.
function __posbridge_ports
    for port in ${PORT_GLOBS.join(' ')}
        echo $port
    end
    printf '%s\\n' ${PORT_SCHEMES.join(' ')}
    # A path typed by hand (a pty link, ./pty0).
    set -l token (commandline -ct)
    string match -q -r '^[/.~]' -- $token; and __fish_complete_path $token
end

# Serial numbers of the terminals a running daemon knows (nothing when none runs).
function __posbridge_sns
    set -l command (commandline -opc)[1]
    $command __complete sn 2>/dev/null
end

complete -c posbridge -f
${lines.join('\n')}
`;
}

function optionLine(option: OptionSpec, condition: string): string {
  const names = [...(option.short ? [`-s ${option.short.slice(1)}`] : []), `-l ${option.long.slice(2)}`].join(
    ' ',
  );
  const base = `complete -c posbridge -n ${condition} ${names} -d ${quote(option.description)}`;
  switch (option.value?.kind) {
    case undefined:
      return base;
    case 'choices':
      return `${base} -x -a ${quote(option.value.choices.join(' '))}`;
    case 'port':
      return `${base} -x -a '(__posbridge_ports)'`;
    case 'sn':
      return `${base} -x -a '(__posbridge_sns)'`;
    case 'file':
      return `${base} -r -F`;
    case 'text':
      return `${base} -x`;
  }
}

/** A single-quoted fish word (fish escapes only \\ and ' inside single quotes). */
function quote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', ' ')}'`;
}
