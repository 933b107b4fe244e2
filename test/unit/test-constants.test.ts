/**
 * Shared test values are defined once, in test/support/constants.ts: no other test file declares
 * a constant of the same name and value (a copy drifts; an import cannot).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const HOME = 'test/support/constants.ts';
const DECLARATION = /^(?:export )?const ([A-Z][A-Z0-9_]*) = ([^;\n]+);/gm;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : files(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

function declarations(text: string): Array<[string, string]> {
  return [...text.matchAll(DECLARATION)].map((m) => [m[1]!, m[2]!.trim()]);
}

describe('shared test constants', () => {
  const shared = declarations(readFileSync(join(root, HOME), 'utf8'));

  it('the pattern reads a declaration and its value', () => {
    expect(declarations("export const MERCHANT = '1';\nconst X = 2;")).toEqual([
      ['MERCHANT', "'1'"],
      ['X', '2'],
    ]);
    expect(shared.map(([name]) => name)).toContain('MERCHANT');
  });

  it(`no test file declares again a constant of ${HOME}`, () => {
    const copies: string[] = [];
    for (const file of files(join(root, 'test'))) {
      const path = relative(root, file);
      if (path === HOME) continue;
      for (const [name, value] of declarations(readFileSync(file, 'utf8')))
        if (shared.some(([n, v]) => n === name && v === value)) copies.push(`${path}: ${name} = ${value}`);
    }
    expect(copies).toEqual([]);
  });
});
