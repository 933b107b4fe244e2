/**
 * The bash completion script, from the command tree (spec.ts). Bash calls `_posbridge` with
 * COMP_WORDS/COMP_CWORD; the function finds the command being typed (skipping options and their
 * values), then offers its subcommands, its options, or the value of the option before the
 * cursor. Ports are globbed and serial numbers asked of the daemon at completion time, never
 * baked in.
 */
import { allSpecs, type CommandSpec, PORT_GLOBS, PORT_SCHEMES, type ValueKind } from './spec.js';

export function bashCompletion(program: CommandSpec, version: string): string {
  const specs = allSpecs(program);
  const key = (spec: CommandSpec) => shellWord(spec.path.join(' '));
  const commands = specs
    .filter((spec) => spec.commands.length > 0)
    .map((spec) => `    ${key(spec)}) echo ${shellWord(spec.commands.map((c) => c.name).join(' '))} ;;`);
  const options = specs.map(
    (spec) =>
      `    ${key(spec)}) echo ${shellWord(spec.options.flatMap((o) => (o.short ? [o.short, o.long] : [o.long])).join(' '))} ;;`,
  );
  const values = specs.flatMap((spec) =>
    spec.options
      .filter((option) => option.value !== undefined)
      .map((option) => {
        const names = (option.short ? [option.short, option.long] : [option.long]).map((name) =>
          shellWord(`${spec.path.join(' ')} ${name}`),
        );
        return `    ${names.join('|')}) echo ${shellWord(valueWord(option.value!))} ;;`;
      }),
  );
  const args = specs
    .filter((spec) => spec.arguments[0] !== undefined)
    .map((spec) => `    ${key(spec)}) echo ${shellWord(valueWord(spec.arguments[0]!.value))} ;;`);
  return `# bash completion for posbridge ${version}, generated from its commands (posbridge completion bash).
# Install: posbridge completion bash > ~/.local/share/bash-completion/completions/posbridge
#      or: echo 'source <(posbridge completion bash)' >> ~/.bashrc

# The subcommands of a command (by its path: '' is posbridge itself).
_posbridge_commands() {
  case $1 in
${commands.join('\n')}
  esac
}

# The options of a command.
_posbridge_options() {
  case $1 in
${options.join('\n')}
  esac
}

# How the value of option $2 of command $1 completes: port, sn, file, text or "choices A B...";
# nothing for a switch.
_posbridge_value() {
  case "$1 $2" in
${values.join('\n')}
  esac
}

# How a command's first argument completes.
_posbridge_argument() {
  case $1 in
${args.join('\n')}
  esac
}

# Serial devices present now, and the port schemes typed by hand.
_posbridge_ports() {
  local cur=$1 port
  local -a ports=()
  for port in ${PORT_GLOBS.join(' ')}; do
    [[ -e $port ]] && ports+=("$port")
  done
  COMPREPLY=($(compgen -W "\${ports[*]} ${PORT_SCHEMES.join(' ')}" -- "$cur"))
  # A path typed by hand (a pty link, ./pty0).
  [[ $cur == /* || $cur == .* || $cur == '~'* ]] && COMPREPLY+=($(compgen -f -- "$cur"))
  # A scheme is the start of a word, not a word.
  [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *:// ]] && compopt -o nospace 2>/dev/null
}

# Completes the current word as a value of the given kind ($1), $2 being the word.
_posbridge_complete_value() {
  local kind=$1 cur=$2
  case $kind in
    port) _posbridge_ports "$cur" ;;
    sn) COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete sn 2>/dev/null)" -- "$cur")) ;;
    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    choices\\ *) COMPREPLY=($(compgen -W "\${kind#choices }" -- "$cur")) ;;
  esac
}

_posbridge() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path='' word kind i
  COMPREPLY=()
  # Which command is being typed: the words that name subcommands, skipping options and the
  # values of those that take one (bash splits --opt=value into --opt, =, value).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -* ]]; then
      if [[ -n $(_posbridge_value "$path" "$word") ]]; then
        ((i++))
        [[ \${COMP_WORDS[i]} == '=' ]] && ((i++))
      fi
    elif [[ " $(_posbridge_commands "$path") " == *" $word "* ]]; then
      path=\${path:+$path }$word
    fi
  done
  # The value of the option before the cursor (--opt value, or --opt=value).
  local option=\${COMP_WORDS[COMP_CWORD-1]}
  if [[ $option == '=' && COMP_CWORD -ge 2 ]]; then
    option=\${COMP_WORDS[COMP_CWORD-2]}
  elif [[ $cur == '=' ]]; then
    cur=''
  fi
  if [[ $option == -* ]]; then
    kind=$(_posbridge_value "$path" "$option")
    if [[ -n $kind ]]; then
      _posbridge_complete_value "$kind" "$cur"
      return 0
    fi
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_posbridge_options "$path")" -- "$cur"))
    return 0
  fi
  local commands=$(_posbridge_commands "$path")
  if [[ -n $commands ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    return 0
  fi
  kind=$(_posbridge_argument "$path")
  [[ -n $kind ]] && _posbridge_complete_value "$kind" "$cur"
  return 0
}

complete -F _posbridge posbridge
`;
}

/** The word `_posbridge_value` prints for a kind of value. */
function valueWord(value: ValueKind): string {
  return value.kind === 'choices' ? `choices ${value.choices.join(' ')}` : value.kind;
}

/** A word for the shell, single-quoted. */
export function shellWord(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
