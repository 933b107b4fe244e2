import { describe, expect, it } from 'vitest';
import { loadedOnUse } from '../../src/host/ports/loaded-on-use.js';
import { createMemoryLink } from '../../src/host/ports/memory.js';
import type { PortFactory } from '../../src/host/ports/transport.js';

const OPTIONS = { baudRate: 115_200 };

/** The factory a load yields: opens memory links, naming each. */
const inner: PortFactory = {
  open: async (name) => createMemoryLink(name).transport,
};

/** A load the test settles by hand, counting its calls. */
function manualLoad() {
  const attempts: Array<{ resolve: (f: PortFactory) => void; reject: (e: Error) => void }> = [];
  const load = (): Promise<PortFactory> =>
    new Promise((resolve, reject) => {
      attempts.push({ resolve, reject });
    });
  return { load, attempts };
}

describe('loadedOnUse: a factory whose module loads at first use', () => {
  it('a load that failed is tried again at the next use; the one that succeeded is kept', async () => {
    let calls = 0;
    const factory = loadedOnUse(async () => {
      calls += 1;
      if (calls === 1) throw new Error('EMFILE: too many open files, open telnet/factory.js');
      return inner;
    });

    await expect(factory.open('telnet://127.0.0.1:4001', OPTIONS)).rejects.toThrow(/EMFILE/);
    const transport = await factory.open('telnet://127.0.0.1:4001', OPTIONS);
    expect(transport.name).toBe('telnet://127.0.0.1:4001');
    await transport.close();
    expect(calls).toBe(2);

    // Kept: neither another open nor the lock's endpoint question loads again.
    await (await factory.open('telnet://127.0.0.1:4002', OPTIONS)).close();
    expect(await factory.endpoint?.('telnet://127.0.0.1:4002')).toBeDefined();
    expect(calls).toBe(2);
  });

  it('callers during one load share it, a failed one too; the next use after a failure loads again', async () => {
    const { load, attempts } = manualLoad();
    const factory = loadedOnUse(load);

    const failing = [factory.open('telnet://a:1', OPTIONS), factory.endpoint?.('telnet://a:1')];
    await Promise.resolve();
    expect(attempts).toHaveLength(1);
    attempts[0]!.reject(new Error('module not found'));
    for (const call of failing) await expect(call).rejects.toThrow('module not found');

    const opening = [factory.open('telnet://a:1', OPTIONS), factory.open('telnet://b:2', OPTIONS)];
    await Promise.resolve();
    expect(attempts).toHaveLength(2);
    attempts[1]!.resolve(inner);
    const transports = await Promise.all(opening);
    expect(transports.map((t) => t.name)).toEqual(['telnet://a:1', 'telnet://b:2']);
    for (const t of transports) await t.close();
    expect(attempts).toHaveLength(2);
  });
});
