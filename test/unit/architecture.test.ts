/**
 * The layering of docs/architecture.md, enforced. Each folder of src/ is a layer; ALLOWED lists
 * the layers each may import (itself always). A new arrow that is not in the table fails here,
 * naming the file and the import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** The allowed arrows between the folders of src/ (docs/architecture.md, "The map"). */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  'mock-device': ['protocol'],
  host: ['protocol'],
  audit: ['protocol', 'host'],
  station: ['protocol', 'host'],
  daemon: ['protocol', 'host', 'audit', 'station'],
  conformance: ['protocol', 'host'],
  // The browser code: the DOM only (its own tsconfig), served by src/daemon/http.
  dashboard: [],
  cli: ['protocol', 'host', 'audit', 'station', 'daemon', 'conformance', 'mock-device'],
};

/**
 * audit may use host's types, and at run time only what every layer shares: the coded-error base
 * and the Secret wrapper (so a secret is recognized, never stored).
 */
const AUDIT_RUNTIME_FROM_HOST = ['host/errors.ts', 'host/secret.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(import|export)(\s+type)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => ({ specifier: (m[3] ?? m[4]) as string, typeOnly: m[2] !== undefined }));
}

/** The layer a relative import lands in, `pkg:NAME` for a package, or the src/-relative path. */
function targetOf(file: string, specifier: string): { layer: string; path: string } {
  if (!specifier.startsWith('.')) return { layer: `pkg:${specifier}`, path: specifier };
  const path = relative(join(root, 'src'), resolve(dirname(file), specifier)).replace(/\.js$/, '.ts');
  return { layer: path.split('/')[0]!, path };
}

const layers = readdirSync(join(root, 'src')).filter((n) => statSync(join(root, 'src', n)).isDirectory());

describe('architecture', () => {
  it('every folder of src/ is a layer of the table', () => {
    expect(layers.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(Object.keys(ALLOWED))('src/%s imports only the layers the table allows', (layer) => {
    const allowed = new Set([layer, ...ALLOWED[layer]!]);
    for (const file of sourceFiles(join(root, 'src', layer))) {
      for (const { specifier } of importsOf(file)) {
        const target = targetOf(file, specifier);
        if (target.layer.startsWith('pkg:')) continue;
        expect(allowed.has(target.layer), `${relative(root, file)} imports ${specifier}`).toBe(true);
      }
    }
  });

  it('src/protocol imports nothing but itself and node:stream (an in-memory abstraction)', () => {
    for (const file of sourceFiles(join(root, 'src/protocol'))) {
      for (const { specifier } of importsOf(file)) {
        const { layer } = targetOf(file, specifier);
        expect(['protocol', 'pkg:node:stream'], `${relative(root, file)} imports ${specifier}`).toContain(
          layer,
        );
      }
    }
  });

  it('src/dashboard (browser code) imports no package and no Node module, only its own files', () => {
    const files = sourceFiles(join(root, 'src/dashboard'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const { specifier } of importsOf(file)) {
        expect(specifier.startsWith('./'), `${relative(root, file)} imports ${specifier}`).toBe(true);
      }
      expect(readFileSync(file, 'utf8'), relative(root, file)).not.toMatch(/\bprocess\.|\brequire\(/);
    }
  });

  it('src/audit takes only types from src/host, besides the shared error base and Secret', () => {
    for (const file of sourceFiles(join(root, 'src/audit'))) {
      for (const { specifier, typeOnly } of importsOf(file)) {
        const target = targetOf(file, specifier);
        if (target.layer !== 'host' || typeOnly) continue;
        expect(AUDIT_RUNTIME_FROM_HOST, `${relative(root, file)} imports ${specifier} at run time`).toContain(
          target.path,
        );
      }
    }
  });

  it('nothing below the CLI knows the mock terminal, even by a path in a string', () => {
    for (const layer of ['host', 'audit', 'station', 'daemon', 'conformance']) {
      for (const file of sourceFiles(join(root, 'src', layer))) {
        expect(readFileSync(file, 'utf8'), relative(root, file)).not.toMatch(/mock-device/);
      }
    }
  });

  it('the Telnet / RFC 2217 codec is pure: only relative imports, no timers (docs/architecture.md)', () => {
    for (const name of ['codec.ts', 'negotiation.ts', 'com-port.ts', 'url.ts']) {
      const file = join(root, 'src/host/ports/telnet', name);
      for (const { specifier } of importsOf(file)) {
        expect(specifier.startsWith('.'), `src/host/ports/telnet/${name} imports ${specifier}`).toBe(true);
      }
      expect(readFileSync(file, 'utf8'), name).not.toMatch(/\bset(Timeout|Interval|Immediate)\(/);
    }
  });

  it('src/conformance takes from src/host only the link and its plumbing, never the session or the driver', () => {
    // It tests the raw wire: a session would retransmit, a driver would read replies for it.
    const allowed = [
      'host/ports/index.ts',
      'host/errors.ts',
      'host/timers.ts',
      'host/trace.ts',
      'host/secret.ts',
    ];
    const seen = new Set<string>();
    for (const file of sourceFiles(join(root, 'src/conformance'))) {
      for (const { specifier } of importsOf(file)) {
        const target = targetOf(file, specifier);
        if (target.layer !== 'host') continue;
        seen.add(target.path);
        expect(allowed, `${relative(root, file)} imports ${specifier}`).toContain(target.path);
      }
    }
    expect(seen.has('host/ports/index.ts')).toBe(true);
  });

  it('the table is not vacuous: a wrong arrow is seen', () => {
    const fake = join(root, 'src/host/fake.ts');
    expect(targetOf(fake, '../daemon/api/index.js').layer).toBe('daemon');
    expect(ALLOWED.host).not.toContain('daemon');
    expect(importsOf(join(root, 'src/audit/types.ts')).some((i) => i.typeOnly)).toBe(true);
  });
});
