import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

async function script(shell: string): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  expect(await runCli(['completion', shell], { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {} })).toBe(0);
  expect(err.join('')).toBe('');
  return out.join('');
}

/** What bash offers after `line` (the cursor at its end), with the script sourced as a user would. */
function bashComplete(source: string, line: string): string[] {
  const words = line.split(' ');
  const program = `${source}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _livescope_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('livescope completion', () => {
  it('bash: completes commands, subcommands, options and the values of options with choices', async () => {
    const s = await script('bash');
    expect(bashComplete(s, 'livescope pol')).toEqual(['policy']);
    expect(bashComplete(s, 'livescope policy pu')).toEqual(['publish']);
    expect(bashComplete(s, 'livescope policy publish --re')).toEqual(['--reason', '--require-approval']);
    expect(bashComplete(s, 'livescope alerts --severity ')).toEqual(['low', 'medium', 'high', 'critical']);
    expect(bashComplete(s, 'livescope alerts a')).toEqual(['ack']);
    expect(bashComplete(s, 'livescope --json identities --status d')).toEqual(['disabled', 'deleted']);
    expect(bashComplete(s, 'livescope completion ')).toEqual(['bash', 'zsh', 'fish']);
    // A free value (a reason) is the user's to type: nothing offered.
    expect(bashComplete(s, 'livescope narrow --reason ')).toEqual([]);
    expect(bashComplete(s, 'livescope --')).toEqual(expect.arrayContaining(['--api', '--token', '--json', '--help', '--version']));
    // Every top-level command is offered.
    const top = bashComplete(s, 'livescope ');
    for (const c of ['narrow', 'quarantine', 'identities', 'fleet', 'changes', 'me', 'revoke-approval', 'policy', 'completion']) expect(top).toContain(c);
  });

  it('bash: the script is valid bash', async () => {
    expect(() => execFileSync('bash', ['-n'], { input: '' })).not.toThrow();
    const s = await script('bash');
    expect(() => execFileSync('bash', ['-n'], { input: s })).not.toThrow();
  });

  it('zsh: registers itself and names every command with its description', async () => {
    const s = await script('zsh');
    expect(s.startsWith('#compdef livescope\n')).toBe(true);
    expect(s).toContain('compdef _livescope_complete livescope');
    expect(s).toContain("'fleet:the fleet at a glance");
    expect(s).toContain("'/policy') cmds=('validate:");
    expect(s).toContain("'/alerts --severity') compadd -- 'low' 'medium' 'high' 'critical'; return ;;");
  });

  it('fish: one completion per command and option, scoped to the command typed', async () => {
    const s = await script('fish');
    expect(s).toContain("complete -c livescope -n '__fish_use_subcommand' -a 'me' -d 'who the token speaks for: subject, roles, and what they allow'");
    expect(s).toContain("complete -c livescope -n '__fish_seen_subcommand_from publish; and __fish_seen_subcommand_from policy' -l 'reason' -r -d 'why (recorded with the publication)'");
    expect(s).toContain("-l 'severity' -r -a 'low medium high critical'");
    // Single quotes inside descriptions are escaped for the shell.
    expect(s).not.toMatch(/-d '[^']*'[^'\n ][^\n]*$/m);
  });

  it('exits 2 for a shell it does not know', async () => {
    const err: string[] = [];
    expect(await runCli(['completion', 'powershell'], { stdout: () => undefined, stderr: (t) => void err.push(t), env: {} })).toBe(2);
    expect(err.join('')).toMatch(/Allowed choices are bash, zsh, fish/);
  });
});
