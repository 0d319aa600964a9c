import type { Command } from 'commander';

/** Shells `livescope completion` writes a script for. */
export const completionShells = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof completionShells)[number];

/** One command of the tree, as completion needs it: its path from the program, subcommands and options. */
interface Node {
  readonly path: readonly string[];
  readonly description: string;
  readonly commands: readonly Node[];
  /** Values of its positional arguments with fixed choices (`completion <shell>`). */
  readonly values: readonly string[];
  readonly options: readonly { readonly flags: readonly string[]; readonly description: string; readonly takesValue: boolean; readonly choices: readonly string[] }[];
}

function nodeOf(cmd: Command, path: readonly string[]): Node {
  const options = [...cmd.options, cmd.createHelp().visibleOptions(cmd).find((o) => o.long === '--help')]
    .filter((o, i, all): o is NonNullable<typeof o> => o !== undefined && !o.hidden && all.findIndex((x) => x?.long === o.long) === i)
    .map((o) => ({ flags: [o.long, o.short].filter((f): f is string => typeof f === 'string'), description: o.description, takesValue: o.required || o.optional, choices: o.argChoices ?? [] }));
  return {
    path,
    description: cmd.description(),
    commands: cmd.commands.filter((c) => c.name() !== 'help').map((c) => nodeOf(c, [...path, c.name()])),
    values: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
    options: path.length === 0 ? [...options, { flags: ['--version', '-V'], description: 'print the version of this CLI', takesValue: false, choices: [] }] : options,
  };
}

const all = (n: Node): Node[] => [n, ...n.commands.flatMap(all)];
/** Single-quoted for bash, zsh and fish: no expansion inside. */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const firstLine = (s: string): string => s.split('\n')[0]!.replace(/\s+/g, ' ').trim();

/**
 * `case` branches on "<command path> <previous word>" for options that take a value: one per option
 * with fixed choices (completing them), one for all the others (no word to offer).
 */
function valuedCases(nodes: readonly Node[], complete: (choices: readonly string[]) => string): string[] {
  const patterns = (n: Node, flags: readonly string[]): string[] => flags.map((f) => sq(`/${n.path.join('/')} ${f}`));
  const valued = nodes.flatMap((n) => n.options.filter((o) => o.takesValue).map((o) => ({ n, o })));
  const free = valued.filter((v) => v.o.choices.length === 0).flatMap((v) => patterns(v.n, v.o.flags));
  return [
    ...valued.filter((v) => v.o.choices.length > 0).map((v) => `    ${patterns(v.n, v.o.flags).join('|')}) ${complete(v.o.choices)}; return ;;`),
    ...(free.length ? [`    ${free.join('|')}) ${complete([])}; return ;;`] : []),
  ];
}

/**
 * The completion script of a shell for the program's command tree: subcommands, options, the
 * values of options with fixed choices. Generated from the commands themselves, so it never drifts.
 */
export function completionScript(shell: CompletionShell, program: Command): string {
  const root = nodeOf(program, []);
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  const nodes = all(root);
  const key = (n: Node): string => `/${n.path.join('/')}`;
  switch (shell) {
    case 'bash': {
      const paths = nodes.filter((n) => n.path.length > 0).map((n) => sq(key(n)));
      const words = nodes.map((n) => `    ${sq(key(n))}) cmds=${sq([...n.commands.map((c) => c.path.at(-1)!), ...n.values].join(' '))} opts=${sq(n.options.flatMap((o) => o.flags).join(' '))} ;;`);
      const valued = valuedCases(nodes, (choices) => (choices.length ? `COMPREPLY=($(compgen -W ${sq(choices.join(' '))} -- "$cur"))` : 'COMPREPLY=()'));
      return `# bash completion for ${name}: source <(${name} completion bash), or save it in ~/.local/share/bash-completion/completions/${name}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev= path= w i cmds= opts=
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case "$path/$w" in
      ${paths.join('|')}) path="$path/$w" ;;
    esac
  done
  [ -z "$path" ] && path=/
  ((COMP_CWORD > 1)) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  case "$path $prev" in
${valued.join('\n')}
  esac
  case "$path" in
${words.join('\n')}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -W "$cmds" -- "$cur")); fi
}
complete -o default -F ${fn} ${name}
`;
    }
    case 'zsh': {
      const paths = nodes.filter((n) => n.path.length > 0).map((n) => sq(key(n)));
      const cases = nodes.map((n) => {
        const cmds = [...n.commands.map((c) => sq(`${c.path.at(-1)!}:${firstLine(c.description)}`)), ...n.values.map(sq)];
        const opts = n.options.flatMap((o) => o.flags.map((f) => sq(`${f}:${firstLine(o.description).replace(/:/g, '\\:')}`)));
        return `    ${sq(key(n))}) cmds=(${cmds.join(' ')}); opts=(${opts.join(' ')}) ;;`;
      });
      const valued = valuedCases(nodes, (choices) => (choices.length ? `compadd -- ${choices.map(sq).join(' ')}` : '_files'));
      return `#compdef ${name}
# zsh completion for ${name}: source <(${name} completion zsh), or save it as _${name} in a directory of $fpath
${fn}() {
  local path_=/ w i
  local -a cmds opts
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case "\${path_%/}/$w" in
      ${paths.join('|')}) path_="\${path_%/}/$w" ;;
    esac
  done
  case "$path_ \${words[CURRENT-1]}" in
${valued.join('\n')}
  esac
  case "$path_" in
${cases.join('\n')}
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    _describe -t options 'option' opts
  else
    _describe -t commands 'command' cmds || _files
  fi
}
if [ "\${funcstack[1]}" = "_${name}" ]; then ${fn} "$@"; else compdef ${fn} ${name}; fi
`;
    }
    case 'fish': {
      const lines = [`# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish`];
      // A command's condition: its path was typed, and no subcommand of it yet.
      const condition = (n: Node): string => {
        const after = n.commands.map((c) => c.path.at(-1)!);
        const here = n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path.at(-1)!}${n.path.length > 1 ? `; and __fish_seen_subcommand_from ${n.path.slice(0, -1).join(' ')}` : ''}`;
        return after.length && n.path.length > 0 ? `${here}; and not __fish_seen_subcommand_from ${after.join(' ')}` : here;
      };
      for (const n of nodes) {
        if (n.values.length) lines.push(`complete -c ${name} -n ${sq(condition(n))} -a ${sq(n.values.join(' '))}`);
        for (const c of n.commands) lines.push(`complete -c ${name} -n ${sq(condition(n))} -a ${sq(c.path.at(-1)!)} -d ${sq(firstLine(c.description))}`);
        for (const o of n.options) {
          const long = o.flags.find((f) => f.startsWith('--'))?.slice(2);
          const short = o.flags.find((f) => /^-[^-]$/.test(f))?.slice(1);
          lines.push(`complete -c ${name} -n ${sq(condition(n))}${long ? ` -l ${sq(long)}` : ''}${short ? ` -s ${sq(short)}` : ''}${o.takesValue ? ' -r' : ''}${o.choices.length ? ` -a ${sq(o.choices.join(' '))}` : ''} -d ${sq(firstLine(o.description))}`);
        }
      }
      return `${lines.join('\n')}\n`;
    }
  }
}
