/**
 * A lease's calls on a port that stays open: what they leave behind. The daemon keeps a port open
 * for days and lends it for every provisioning (about thirty calls each), so a call must not leave
 * anything attached to the port once it has settled.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DaemonPortManager, type ManagedTerminal } from '../../src/daemon/port-manager/index.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { silentLogger } from './daemon-wire.helper.js';

/** A full garbage collection (V8's gc(), reached without starting node with --expose-gc). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** A terminal that answers at once and can be unplugged. */
function fakeTerminal() {
  let unplug: ((error: PosbridgeError) => void) | undefined;
  let pending: (() => void) | undefined;
  const terminal = {
    hello: async () => ({ proto: 1, sn: 'SN1', model: 'M', fw: '1.0', caps: [] }),
    status: async () => ({ state: 'ready', factoryPw: [], attemptsLeft: 5 }),
    diag: () =>
      new Promise((resolve) => {
        pending = () => resolve({ results: [], pass: 0, warn: 0, fail: 0 });
      }),
    onClose(callback: (error: PosbridgeError) => void) {
      unplug = callback;
      return () => {
        unplug = undefined;
      };
    },
    close: async () => undefined,
  } as unknown as ManagedTerminal;
  return {
    terminal,
    unplug: () => unplug?.(new PosbridgeError('DISCONNECTED', 'mem://a: unplugged')),
    finishDiag: () => pending?.(),
  };
}

describe('lease calls on a port that stays open', () => {
  it('leave nothing behind once settled (thousands of calls, no growth)', async () => {
    const gc = collector();
    const { terminal } = fakeTerminal();
    const manager = new DaemonPortManager({
      open: async () => terminal,
      logger: silentLogger,
      heartbeatMs: 0,
    });
    const lease = await manager.lease('mem://a');
    for (let i = 0; i < 2000; i++) await lease.status();
    gc();
    const before = process.memoryUsage().heapUsed;
    const calls = 20_000;
    for (let i = 0; i < calls; i++) await lease.status();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Racing each call against a promise that never settles kept about 400 bytes a call (8 MB here).
    expect(grown / calls).toBeLessThan(40);
    await lease.close();
    await manager.close();
  });

  it('a call under way still fails at once when the port goes, and calls after it too', async () => {
    const { terminal, unplug, finishDiag } = fakeTerminal();
    const manager = new DaemonPortManager({
      open: async () => terminal,
      logger: silentLogger,
      heartbeatMs: 0,
    });
    const lease = await manager.lease('mem://a');
    const running = lease.diag().catch((e: unknown) => e);
    unplug();
    const error = await running;
    expect(error).toMatchObject({ code: 'DISCONNECTED' });
    finishDiag();
    await expect(lease.status()).rejects.toBe(error);
    await manager.close();
  });
});
