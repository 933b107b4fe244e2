/**
 * Issue 9, item 1: the one-owner lock of every port. Endpoint keys (two names of one terminal are
 * one key), the lock itself (refused while held, free once released, the holder named by its
 * answer or, when it does not answer, from /proc), and the registry taking it before anything is
 * opened. Holders in other processes, and kill -9, are in test/e2e/endpoint-lock-process.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import {
  defaultEndpoint,
  deviceEndpoint,
  networkEndpoint,
  normalizeHost,
  processEndpoint,
} from '../../src/host/ports/endpoint.js';
import {
  EndpointLocks,
  findAbstractSocketOwners,
  lockSocketName,
  selfCommand,
} from '../../src/host/ports/endpoint-lock.js';
import { createMemoryLink } from '../../src/host/ports/memory.js';
import { PortRegistry } from '../../src/host/ports/registry.js';
import { tcpPortFactory } from '../../src/host/ports/tcp.js';
import type { PortFactory } from '../../src/host/ports/transport.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posbridge-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A unique key per test run: locks are host-wide, other test files run at the same time. */
function uniqueKey(label: string): string {
  return `test:${label}:${process.pid}:${Math.random()}`;
}

describe('endpoint keys', () => {
  it('every spelling of this machine is one host; case, brackets, a trailing dot and ::ffff: do not matter', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      '127.0.0.1',
      '::1',
      '[::1]',
      '0.0.0.0',
      'pos.localhost',
      '::ffff:127.0.0.1',
    ]) {
      expect(normalizeHost(host), host).toBe('loopback');
    }
    expect(normalizeHost('POS-3.Example.COM.')).toBe('pos-3.example.com');
    expect(normalizeHost('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(normalizeHost('127.0.0.2')).toBe('127.0.0.2');
  });

  it('tcp:// names of one server give one key: names are resolved, the port counts', async () => {
    const lookups: string[] = [];
    const lookup = async (host: string) => {
      lookups.push(host);
      if (host === 'pos-3.lan') return '10.0.0.5';
      throw new Error('ENOTFOUND');
    };
    const tcp = tcpPortFactory({ lookup });
    const key = async (name: string) => (await tcp.endpoint!(name)).key;
    expect(await key('tcp://localhost:7001')).toBe('net:loopback:7001');
    expect(await key('tcp://127.0.0.1:7001')).toBe('net:loopback:7001');
    expect(await key('tcp://[::1]:7001')).toBe('net:loopback:7001');
    expect(await key('tcp://POS-3.lan:4001')).toBe('net:10.0.0.5:4001');
    expect(await key('tcp://10.0.0.5:4001')).toBe('net:10.0.0.5:4001');
    expect(await key('tcp://10.0.0.5:4002')).toBe('net:10.0.0.5:4002');
    // An unknown name keeps its own key (the open fails next with "unknown host").
    expect(await key('tcp://nowhere.invalid:4001')).toBe('net:nowhere.invalid:4001');
    expect(lookups).toEqual(['pos-3.lan', 'nowhere.invalid']);
    expect((await tcp.endpoint!('tcp://localhost:7001')).scope).toBe('host');
  });

  it('a scheme registered later with a host and port is a network endpoint; others are per factory, in this process', async () => {
    const factory = {};
    expect(await defaultEndpoint(factory, 'rfc2217://LocalHost:2217')).toEqual({
      scope: 'host',
      key: 'net:loopback:2217',
    });
    expect(await networkEndpoint('127.0.0.1', 2217)).toEqual({ scope: 'host', key: 'net:loopback:2217' });
    const mine = await defaultEndpoint(factory, 'mock://a');
    expect(mine.scope).toBe('process');
    expect(await defaultEndpoint(factory, 'mock://a')).toEqual(mine);
    // Another factory's mock://a is another terminal (two mock worlds in one test process).
    expect((await defaultEndpoint({}, 'mock://a')).key).not.toBe(mine.key);
  });

  it('a device is keyed by its target: a link, a relative path and the device itself are one key', async () => {
    const device = join(dir, 'ttyFAKE0');
    writeFileSync(device, '');
    mkdirSync(join(dir, 'by-id'));
    symlinkSync(device, join(dir, 'by-id', 'usb-PAX_A920-if00'));
    const direct = await deviceEndpoint(device);
    expect(direct).toEqual({ scope: 'host', key: `device:${device}` });
    expect(await deviceEndpoint(join(dir, 'by-id', 'usb-PAX_A920-if00'))).toEqual(direct);
    expect(await deviceEndpoint(join(dir, 'by-id', '..', 'ttyFAKE0'))).toEqual(direct);
    // Absent: its absolute path (opening it then says "no such port").
    expect((await deviceEndpoint('/dev/nothing-here-0')).key).toBe('device:/dev/nothing-here-0');
  });
});

describe('EndpointLocks', () => {
  it('refuses a held endpoint with PORT_BUSY naming the holder (answered over the lock socket), frees it on release', async () => {
    const key = uniqueKey('held');
    const first = new EndpointLocks();
    const second = new EndpointLocks();
    const lease = await first.acquire({ scope: 'host', key }, 'tcp://pos:1');
    const refused = await second.acquire({ scope: 'host', key }, 'tcp://pos:1').catch((e) => e);
    expect(isPosbridgeError(refused, 'PORT_BUSY')).toBe(true);
    expect(refused.message).toBe(`port busy: tcp://pos:1 is held by pid ${process.pid} (this process)`);
    expect(refused.details.holders).toEqual([{ pid: process.pid, command: selfCommand(), self: true }]);
    lease.release();
    lease.release();
    const again = await second.acquire({ scope: 'host', key }, 'tcp://pos:1');
    expect(second.heldKeys()).toEqual([key]);
    again.release();
    expect(second.heldKeys()).toEqual([]);
  });

  it('a second open in the same process is refused at once, also before the first bind completed', async () => {
    const locks = new EndpointLocks();
    const key = uniqueKey('same-process');
    const [a, b] = await Promise.allSettled([
      locks.acquire({ scope: 'host', key }, 'x'),
      locks.acquire({ scope: 'host', key }, 'x'),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason.message).toContain('(this process)');
    (a as PromiseFulfilledResult<{ release(): void }>).value.release();
  });

  it('process-scope endpoints (mock://) lock within this process only', async () => {
    const locks = new EndpointLocks();
    const owner = {};
    const lease = await locks.acquire(processEndpoint(owner, 'mock://a'), 'mock://a');
    await expect(locks.acquire(processEndpoint(owner, 'mock://a'), 'mock://a')).rejects.toMatchObject({
      code: 'PORT_BUSY',
    });
    // Another process (another EndpointLocks) is not concerned.
    const other = await new EndpointLocks().acquire(processEndpoint(owner, 'mock://a'), 'mock://a');
    other.release();
    lease.release();
  });

  it('socket-file mode (other systems): a file left by a dead holder is removed and the lock taken', async () => {
    const key = uniqueKey('stale');
    const locks = new EndpointLocks({ socketDir: dir });
    // What a crashed holder leaves: a socket path nobody listens on.
    writeFileSync(join(dir, `${lockSocketName(key)}.sock`), '');
    const lease = await locks.acquire({ scope: 'host', key }, 'tcp://pos:2');
    const refused = await new EndpointLocks({ socketDir: dir })
      .acquire({ scope: 'host', key }, 'tcp://pos:2')
      .catch((e) => e);
    expect(refused.code).toBe('PORT_BUSY');
    expect(refused.message).toContain(`pid ${process.pid}`);
    lease.release();
  });

  it('a lock that cannot be taken at all is a clear PORT_OPEN_FAILED, and nothing is held', async () => {
    const locks = new EndpointLocks({ socketDir: join(dir, 'no-such-dir') });
    const key = uniqueKey('unlockable');
    const error = await locks.acquire({ scope: 'host', key }, 'tcp://pos:4').catch((e) => e);
    expect(error.code).toBe('PORT_OPEN_FAILED');
    expect(error.message).toMatch(/^cannot take the one-owner lock of tcp:\/\/pos:4: listen E[A-Z]+/);
    expect(locks.heldKeys()).toEqual([]);
  });

  it('names a holder that does not answer (stopped with Ctrl-Z) from /proc, after a bounded wait', async () => {
    const key = uniqueKey('mute');
    // A holder whose event loop is stopped: it holds the name but never answers.
    const mute = net.createServer(() => undefined);
    await new Promise<void>((resolve) => mute.listen({ path: `\0${lockSocketName(key)}` }, resolve));
    const refused = await new EndpointLocks({ queryTimeoutMs: 50 })
      .acquire({ scope: 'host', key }, 'tcp://pos:3')
      .catch((e) => e);
    mute.close();
    expect(refused.code).toBe('PORT_BUSY');
    expect(refused.message).toBe(`port busy: tcp://pos:3 is held by pid ${process.pid} (this process)`);
  });

  it('finds the owner of an abstract lock socket in /proc', async () => {
    const key = uniqueKey('proc');
    const locks = new EndpointLocks();
    const lease = await locks.acquire({ scope: 'host', key }, 'p');
    const owners = await findAbstractSocketOwners(lockSocketName(key));
    expect(owners.map((o) => o.pid)).toEqual([process.pid]);
    expect(owners[0]!.self).toBe(true);
    lease.release();
    expect(await findAbstractSocketOwners(lockSocketName(key))).toEqual([]);
  });

  it('describes posbridge as a person typed it', () => {
    expect(
      selfCommand(['/usr/bin/node', '/opt/pb/dist/cli/main.js', 'provision', '--port', 'tcp://h:1']),
    ).toBe('posbridge provision --port tcp://h:1');
    expect(selfCommand(['/usr/bin/node', '/usr/local/bin/posbridge', 'daemon'])).toBe('posbridge daemon');
    expect(selfCommand(['/usr/bin/node', '/x/tool.js', 'a'])).toBe('node /x/tool.js a');
    expect(selfCommand(['/usr/bin/node', '/x/tool.js', 'a'.repeat(200)])).toHaveLength(120);
  });
});

describe('PortRegistry takes the lock before opening', () => {
  function countingFactory(opens: string[]): PortFactory {
    return {
      endpoint: async () => ({ scope: 'host', key: `test:registry:${process.pid}` }),
      async open(name) {
        opens.push(name);
        return createMemoryLink(name).transport;
      },
    };
  }

  it('a refused open never reaches the factory; the lock is free again once the transport closes', async () => {
    const opens: string[] = [];
    const locks = new EndpointLocks();
    const registry = new PortRegistry({ devices: countingFactory(opens), locks });
    const other = new PortRegistry({ devices: countingFactory(opens), locks: new EndpointLocks() });
    const transport = await registry.open('/dev/ttyA');
    const refused = await other.open('/dev/ttyB').catch((e) => e);
    expect(refused.code).toBe('PORT_BUSY');
    expect(refused.message).toMatch(/^port busy: \/dev\/ttyB is held by pid \d+ \(/);
    expect(opens).toEqual(['/dev/ttyA']);
    await transport.close();
    const reopened = await other.open('/dev/ttyB');
    expect(opens).toEqual(['/dev/ttyA', '/dev/ttyB']);
    await reopened.close();
  });

  it('frees the lock when the link goes away on its own and when the open fails', async () => {
    const locks = new EndpointLocks();
    const key = uniqueKey('peer');
    let peerClose: (() => void) | undefined;
    let fail = false;
    const factory: PortFactory = {
      endpoint: async () => ({ scope: 'host', key }),
      async open(name) {
        if (fail) throw new Error('no such device');
        const link = createMemoryLink(name);
        peerClose = () => link.peer.close();
        return link.transport;
      },
    };
    const registry = new PortRegistry({ devices: factory, locks });
    const transport = await registry.open('/dev/ttyC');
    expect(locks.heldKeys()).toEqual([key]);
    const ended = new Promise<void>((resolve) => transport.onClose(() => resolve()));
    peerClose!();
    await ended;
    expect(locks.heldKeys()).toEqual([]);
    fail = true;
    await expect(registry.open('/dev/ttyC')).rejects.toThrow('no such device');
    expect(locks.heldKeys()).toEqual([]);
  });
});
