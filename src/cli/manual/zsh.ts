/**
 * The zsh completion function (`#compdef posbridge`), from the command tree (spec.ts): one
 * `_arguments` call per command, subcommands dispatched through `->command`/`->args` states.
 * Ports are globbed and serial numbers asked of the daemon at completion time.
 */
import {
  allSpecs,
  type CommandSpec,
  type OptionSpec,
  PORT_GLOBS,
  PORT_SCHEMES,
  type ValueKind,
} from './spec.js';

export function zshCompletion(program: CommandSpec, version: string): string {
  const functions = allSpecs(program).map(commandFunction);
  return `#compdef posbridge
# zsh completion for posbridge ${version}, generated from its commands (posbridge completion zsh).
# Install: posbridge completion zsh > "\${fpath[1]}/_posbridge"   (then: compinit)
#      or: source <(posbridge completion zsh) in ~/.zshrc, after compinit

# Serial devices present now, and the port schemes typed by hand.
_posbridge_ports() {
  local -a ports
  ports=(${PORT_GLOBS.map((glob) => `${glob}(N)`).join(' ')})
  compadd -a ports
  compadd -S '' -- ${PORT_SCHEMES.join(' ')}
  _files
}

# Serial numbers of the terminals a running daemon knows (nothing when none runs).
_posbridge_sns() {
  local -a sns
  sns=(\${(f)"$(\${words[1]:-posbridge} __complete sn 2>/dev/null)"})
  compadd -a sns
}

${functions.join('\n\n')}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _posbridge_cmd "$@"
else
  compdef _posbridge_cmd posbridge
fi
`;
}

function functionName(spec: CommandSpec): string {
  return ['_posbridge_cmd', ...spec.path].join('_').replaceAll('-', '_');
}

function commandFunction(spec: CommandSpec): string {
  const specs = spec.options.map(optionSpec);
  const argument = spec.arguments[0];
  if (spec.commands.length === 0) {
    if (argument)
      specs.push(
        quote(`${argument.required ? '' : ':'}1:${specText(argument.name)}:${action(argument.value)}`),
      );
    return `${functionName(spec)}() {\n  _arguments -s -S \\\n    ${specs.join(' \\\n    ')}\n}`;
  }
  const described = spec.commands.map((c) => quote(`${specText(c.name)}:${specText(c.description)}`));
  const dispatch = spec.commands.map((c) => `        ${c.name}) ${functionName(c)} ;;`);
  const name = ['posbridge', ...spec.path].join(' ');
  return `${functionName(spec)}() {
  local curcontext=$curcontext state line
  local -a commands
  _arguments -C \\
    ${[...specs, quote('1: :->command'), quote('*:: :->args')].join(' \\\n    ')}
  case $state in
    command)
      commands=(
        ${described.join('\n        ')}
      )
      _describe -t commands ${quote(`${name} command`)} commands
      ;;
    args)
      case $line[1] in
${dispatch.join('\n')}
      esac
      ;;
  esac
}`;
}

function optionSpec(option: OptionSpec): string {
  const description = `[${specText(option.description)}]`;
  const value = option.value ? `:${specText(valueName(option))}:${action(option.value)}` : '';
  // `--opt=`: the value may follow as the next word or after `=`.
  const long = option.value ? `${option.long}=` : option.long;
  if (!option.short) return quote(`${long}${description}${value}`);
  // Either form, once: '(-p --port)'{-p,--port=}'[...]:...'
  return `${quote(`(${option.short} ${option.long})`)}{${option.short},${long}}${quote(`${description}${value}`)}`;
}

function valueName(option: OptionSpec): string {
  return /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? 'value';
}

function action(value: ValueKind): string {
  switch (value.kind) {
    case 'choices':
      return `(${value.choices.join(' ')})`;
    case 'port':
      return '_posbridge_ports';
    case 'sn':
      return '_posbridge_sns';
    case 'file':
      return '_files';
    case 'text':
      return ' ';
  }
}

/** Text inside an `_arguments` or `_describe` spec: brackets and colons are syntax there. */
function specText(text: string): string {
  return text
    .replaceAll('\\', '\\\\')
    .replaceAll('[', '\\[')
    .replaceAll(']', '\\]')
    .replaceAll(':', '\\:')
    .replaceAll('\n', ' ');
}

/** A single-quoted zsh word. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
