/**
 * Wildcards in configured port names (`/dev/serial/by-id/usb-PAX_*`, `/tmp/pos[0-9]`), matched
 * against the last part of a path only: `*` any run of characters, `?` one character, `[...]` one
 * of a set (`[0-9]`, `[!x]` negated). Nothing else is special. Hidden names (a leading dot) match
 * only a pattern that starts with a dot, as in a shell.
 */
import { basename, dirname } from 'node:path';

const SPECIAL = /[*?[]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export function isPattern(port: string): boolean {
  return !SCHEME.test(port) && SPECIAL.test(basename(port));
}

/** A compiled pattern: its directory (literal) and a test for names in it. */
export interface PortPattern {
  readonly source: string;
  readonly dir: string;
  matchesName(name: string): boolean;
  matchesPath(path: string): boolean;
}

export function compilePattern(source: string): PortPattern {
  const dir = dirname(source);
  const name = basename(source);
  const regex = new RegExp(`^${globToRegExpSource(name)}$`);
  const hiddenOk = name.startsWith('.');
  const matchesName = (candidate: string): boolean =>
    (hiddenOk || !candidate.startsWith('.')) && regex.test(candidate);
  return {
    source,
    dir,
    matchesName,
    matchesPath: (path) => dirname(path) === dir && matchesName(basename(path)),
  };
}

function globToRegExpSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  return out;
}
