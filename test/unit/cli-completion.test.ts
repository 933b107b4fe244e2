/**
 * `posbridge completion bash|zsh|fish`, generated from the commander definitions: bash's
 * `_posbridge` driven as bash drives it (COMP_WORDS/COMP_CWORD) offers the commands, each
 * command's options, the choices of an option, port paths and schemes; fish answers the same
 * through `complete -C`; the zsh function parses and registers itself with compinit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import { processIo } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { CliHarness } from '../support/cli-inproc.js';
import { canUnshareMounts, requireTool } from '../support/tools.js';

let cli: CliHarness;
const scripts: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'posbridge-completion-'));

beforeAll(async () => {
  cli = new CliHarness();
  for (const shell of ['bash', 'zsh', 'fish']) {
    const run = await cli.run(['completion', shell]);
    expect(run.code, run.stderr).toBe(0);
    scripts[shell] = join(dir, `posbridge.${shell}`);
    writeFileSync(scripts[shell]!, run.stdout);
  }
});

afterAll(() => {
  cli.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** What `_posbridge` puts in COMPREPLY for these words (the last one being completed). */
function bashComplete(words: string[], setup = ''): string[] {
  const quoted = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');
  const script = `${setup}
source '${scripts.bash}'
COMP_WORDS=(${quoted}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}
_posbridge
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', cwd: dir });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter((line) => line !== '');
}

/** Every visible command below the program, with its path. */
function visibleCommands(): { path: string[]; command: Command }[] {
  const program = buildProgram({ ...productionDeps(processIo()), result: { exitCode: 0 } });
  const walk = (command: Command, path: string[]): { path: string[]; command: Command }[] =>
    command
      .createHelp()
      .visibleCommands(command)
      .filter((sub) => command.commands.includes(sub))
      .flatMap((sub) => [{ path: [...path, sub.name()], command: sub }, ...walk(sub, [...path, sub.name()])]);
  return walk(program, []);
}

describe('bash', () => {
  it('registers _posbridge for posbridge (complete -p)', () => {
    const run = spawnSync('bash', ['--norc', '-c', `source '${scripts.bash}'; complete -p posbridge`], {
      encoding: 'utf8',
    });
    expect(run.stdout.trim()).toBe('complete -F _posbridge posbridge');
  });

  it('offers the commands, not the hidden ones, and completes a prefix', () => {
    const all = bashComplete(['posbridge', '']);
    expect(all).toEqual(
      expect.arrayContaining(['info', 'provision', 'station', 'history', 'report', 'completion']),
    );
    expect(all.filter((c) => c.startsWith('__'))).toEqual([]);
    expect(bashComplete(['posbridge', 'pro'])).toEqual(['provision']);
    expect(bashComplete(['posbridge', 'operator', ''])).toEqual(['list', 'add', 'set', 'del']);
  });

  it('offers exactly the options commander defines, for every command', () => {
    for (const { path, command } of visibleCommands()) {
      const expected = command
        .createHelp()
        .visibleOptions(command)
        .flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
      const offered = bashComplete(['posbridge', ...path, '-']);
      expect(offered.sort(), `posbridge ${path.join(' ')}`).toEqual(expected.sort());
    }
  });

  it("completes an option's choices, after a space or an =, skipping earlier options and values", () => {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
    expect(bashComplete(['posbridge', 'info', '--log-level', ''])).toEqual(levels);
    expect(bashComplete(['posbridge', 'info', '--log-level', '=', 'w'])).toEqual(['warn']);
    expect(
      bashComplete(['posbridge', 'operator', 'add', '--port', 'mock://a', '--json', '--log-format', '']),
    ).toEqual(['json', 'pretty']);
    expect(bashComplete(['posbridge', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(['posbridge', 'report', '--format', ''])).toEqual(['csv', 'json']);
  });

  it('completes --port with the port schemes, and paths typed by hand', () => {
    expect(bashComplete(['posbridge', 'info', '--port', ''])).toEqual([
      'tcp://',
      'mock://',
      'rfc2217://',
      'telnet://',
    ]);
    expect(bashComplete(['posbridge', 'diag', '--port', 'rf'])).toEqual(['rfc2217://']);
    writeFileSync(join(dir, 'pty0'), '');
    expect(bashComplete(['posbridge', 'console', '--port', './pt'])).toEqual(['./pty0']);
    expect(bashComplete(['posbridge', 'info', '--trace', './pty'])).toEqual(['./pty0']);
  });

  it.skipIf(!canUnshareMounts())(
    'completes --port with the serial devices present (/dev in a private mount)',
    () => {
      // A /dev of our own, seen only by this shell: two adapters and one by-id name.
      const setup = `mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 &&
touch /dev/ttyUSB0 /dev/ttyACM3 /dev/ttyS0 && mkdir -p /dev/serial/by-id && touch /dev/serial/by-id/usb-PAX_A920_0123-if00`;
      const script = `${setup}
source '${scripts.bash}'
COMP_WORDS=(posbridge info --port ''); COMP_CWORD=3
_posbridge
printf '%s\\n' "\${COMPREPLY[@]}"`;
      const run = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '--norc', '-c', script], {
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.split('\n').filter(Boolean)).toEqual([
        '/dev/ttyUSB0',
        '/dev/ttyACM3',
        '/dev/serial/by-id/usb-PAX_A920_0123-if00',
        'tcp://',
        'mock://',
        'rfc2217://',
        'telnet://',
      ]);
    },
  );
});

describe('zsh', () => {
  it.skipIf(!requireTool('zsh', 'zsh'))(
    'parses, and compinit takes it as the completion of posbridge',
    () => {
      expect(spawnSync('zsh', ['-n', scripts.zsh!], { encoding: 'utf8' }).stderr).toBe('');
      const run = spawnSync(
        'zsh',
        [
          '-f',
          '-c',
          `autoload -U compinit && compinit -u -D && source '${scripts.zsh}' && print -r -- $_comps[posbridge]`,
        ],
        { encoding: 'utf8', env: { ...process.env, HOME: dir } },
      );
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('_posbridge_cmd');
    },
  );
});

describe('fish', () => {
  const fish = (line: string): string[] => {
    const run = spawnSync('fish', ['--no-config', '-c', `source '${scripts.fish}'; complete -C '${line}'`], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, HOME: dir },
    });
    expect(run.stderr).toBe('');
    return run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!);
  };

  it.skipIf(!requireTool('fish', 'fish'))(
    'parses, and completes commands, options, choices and ports',
    () => {
      expect(spawnSync('fish', ['-n', scripts.fish!], { encoding: 'utf8' }).status).toBe(0);
      expect(fish('posbridge pro')).toEqual(['provision']);
      expect(fish('posbridge operator ').sort()).toEqual(['add', 'del', 'list', 'set']);
      expect(fish('posbridge info --po')).toEqual(['--port']);
      expect(fish('posbridge info --log-format ').sort()).toEqual(['json', 'pretty']);
      expect(fish('posbridge info --port ')).toEqual(
        expect.arrayContaining(['tcp://', 'mock://', 'rfc2217://', 'telnet://']),
      );
      expect(fish('posbridge completion ').sort()).toEqual(['bash', 'fish', 'zsh']);
      expect(fish('posbridge __')).toEqual([]);
    },
  );
});
