/**
 * Comments cite this repository's own documents (docs/*.md §N), never a file outside it: a reader
 * of a checkout has docs/, not the brief or the notes it was written from.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const OUTSIDE = /DESIGN\.md|SERIAL-NOTES|STYLE\.md|\.\.\/shared\//;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

/** The lines of a file that cite a document outside the repository. */
function outsideCitations(text: string): string[] {
  return text.split('\n').filter((line) => OUTSIDE.test(line));
}

describe('citations', () => {
  it('the pattern sees a citation of the brief and passes one of docs/', () => {
    expect(outsideCitations(' * (DESIGN.md, "Ports")\n * (docs/protocol.md §8)')).toEqual([
      ' * (DESIGN.md, "Ports")',
    ]);
  });

  it.each(['src', 'test'])('no file under %s/ cites a document outside the repository', (folder) => {
    const self = relative(root, import.meta.filename);
    for (const file of sourceFiles(join(root, folder))) {
      const path = relative(root, file);
      if (path === self) continue;
      // A config test resolves a relative path that merely looks like ../shared/.
      const lines = outsideCitations(readFileSync(file, 'utf8')).filter(
        (l) => !l.includes("'audit: ../shared/"),
      );
      expect(lines, path).toEqual([]);
    }
  });
});
