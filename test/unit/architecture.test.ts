/**
 * The layering of docs/architecture.md, enforced: src/protocol is pure, src/mock-device and
 * src/daemon share only src/protocol, nothing below the CLI imports the CLI.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => (m[1] ?? m[2]) as string);
}

function layerOf(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return `pkg:${specifier}`;
  const target = relative(join(root, 'src'), resolve(dirname(file), specifier));
  return target.split('/')[0]!;
}

describe('architecture', () => {
  it('src/protocol imports nothing but itself and node:stream (an in-memory abstraction)', () => {
    for (const file of sourceFiles(join(root, 'src/protocol'))) {
      for (const spec of importsOf(file)) {
        const layer = layerOf(file, spec);
        expect([`protocol`, 'pkg:node:stream'], `${relative(root, file)} imports ${spec}`).toContain(layer);
      }
    }
  });

  it('src/mock-device and src/daemon never import each other or the CLI', () => {
    const forbidden: Record<string, string[]> = {
      'mock-device': ['daemon', 'cli'],
      daemon: ['mock-device', 'cli'],
    };
    for (const [layer, banned] of Object.entries(forbidden)) {
      for (const file of sourceFiles(join(root, 'src', layer))) {
        for (const spec of importsOf(file)) {
          expect(banned, `${relative(root, file)} imports ${spec}`).not.toContain(layerOf(file, spec));
        }
      }
    }
  });

  it('src/daemon does not know the mock by package path either', () => {
    for (const file of sourceFiles(join(root, 'src/daemon'))) {
      expect(readFileSync(file, 'utf8'), relative(root, file)).not.toMatch(/mock-device/);
    }
  });
});
