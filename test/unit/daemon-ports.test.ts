import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import { GuardedPort, ZeroByteReadError } from '../../src/host/ports/guarded-binding.js';
import { describeHolders, findOpenHolders, parseProcLocks, splitDev } from '../../src/host/ports/holders.js';
import { DEFAULT_TERMINAL_IDS, listPorts } from '../../src/host/ports/list.js';
import { createMemoryLink, memoryPortFactory } from '../../src/host/ports/memory.js';
import { PortRegistry, parsePortName } from '../../src/host/ports/registry.js';
import { serialPortFactory } from '../../src/host/ports/serial.js';
import { parseTcpName } from '../../src/host/ports/tcp.js';
import type { PortFactory, Transport } from '../../src/host/ports/transport.js';
import { flush } from './daemon-wire.helper.js';

function recordingFactory(label: string, calls: string[]): PortFactory {
  return {
    async open(name, options) {
      calls.push(`${label} ${name} ${options.baudRate}`);
      return createMemoryLink(name).transport;
    },
  };
}

describe('PortRegistry', () => {
  it('dispatches device paths, tcp:// and registered schemes', async () => {
    const calls: string[] = [];
    const registry = new PortRegistry({
      devices: recordingFactory('dev', calls),
      tcp: recordingFactory('tcp', calls),
    });
    registry.register('MOCK', recordingFactory('mock', calls));
    const opened = [
      await registry.open('/dev/ttyUSB0'),
      await registry.open('/dev/serial/by-id/usb-PAX_A920-if00', { baudRate: 9600 }),
      await registry.open('/tmp/pos0'),
      await registry.open('tcp://127.0.0.1:4001'),
      await registry.open('mock://a?diag-fail=printer:paper_out'),
    ];
    // Each holds its endpoint's host-wide lock until closed (other test files run meanwhile).
    for (const transport of opened) await transport.close();
    expect(calls).toEqual([
      'dev /dev/ttyUSB0 115200',
      'dev /dev/serial/by-id/usb-PAX_A920-if00 9600',
      'dev /tmp/pos0 115200',
      'tcp tcp://127.0.0.1:4001 115200',
      'mock mock://a?diag-fail=printer:paper_out 115200',
    ]);
    expect(registry.schemes()).toEqual(['mock', 'rfc2217', 'tcp', 'telnet']);
  });

  it('refuses unknown schemes and empty names as usage errors', async () => {
    const registry = new PortRegistry({ devices: recordingFactory('dev', []) });
    const e = await registry.open('ssh://host:22').catch((x) => x);
    expect(isPosbridgeError(e, 'USAGE')).toBe(true);
    expect(e.message).toBe('unsupported port type ssh:// in ssh://host:22');
    expect(e.hint).toBe('Use one of: rfc2217://, tcp://, telnet://, a device path.');
    await expect(registry.open('  ')).rejects.toMatchObject({ code: 'USAGE' });
    expect(() => registry.register('bad scheme', recordingFactory('x', []))).toThrow();
  });

  it('parses names', () => {
    expect(parsePortName('/dev/ttyACM0')).toEqual({ kind: 'device', path: '/dev/ttyACM0' });
    expect(parsePortName('Mock://x')).toEqual({ kind: 'scheme', scheme: 'mock' });
    expect(parseTcpName('tcp://127.0.0.1:4001')).toEqual({ host: '127.0.0.1', port: 4001 });
    expect(parseTcpName('tcp://[::1]:5000')).toEqual({ host: '::1', port: 5000 });
    for (const bad of ['tcp://host', 'tcp://host:0', 'tcp://host:70000', 'tcp://:80', 'tcp://h:1/path']) {
      expect(() => parseTcpName(bad), bad).toThrow(/TCP port name/);
    }
  });
});

describe('memory link', () => {
  it('carries bytes both ways, reports the peer hang-up once as an error', async () => {
    const { transport, peer } = createMemoryLink('mem://x');
    const got: string[] = [];
    const atPeer: string[] = [];
    const closes: Array<Error | undefined> = [];
    transport.onData((b) => got.push(Buffer.from(b).toString()));
    transport.onClose((e) => closes.push(e));
    await transport.write(Buffer.from('early'));
    peer.onReceive((b) => atPeer.push(Buffer.from(b).toString()));
    peer.send(Buffer.from('hi'));
    await flush();
    expect(got).toEqual(['hi']);
    expect(atPeer).toEqual(['early']);
    peer.close();
    peer.close();
    await flush();
    expect(closes).toHaveLength(1);
    expect(isPosbridgeError(closes[0], 'DISCONNECTED')).toBe(true);
    await expect(transport.write(Buffer.from('late'))).rejects.toMatchObject({ code: 'DISCONNECTED' });
    const late: Array<Error | undefined> = [];
    transport.onClose((e) => late.push(e));
    await flush();
    expect(late).toHaveLength(1);
  });

  it('close() from the host tells the peer and ends without an error', async () => {
    const { transport, peer } = createMemoryLink('mem://y');
    let peerClosed = 0;
    peer.onClose(() => peerClosed++);
    const closes: Array<Error | undefined> = [];
    transport.onClose((e) => closes.push(e));
    await transport.close();
    await flush();
    expect(closes).toEqual([undefined]);
    expect(peerClosed).toBe(1);
  });

  it('memoryPortFactory turns an attach failure into PORT_NOT_FOUND', async () => {
    const factory = memoryPortFactory((name) => {
      throw new Error(`no mock terminal named ${name}`);
    });
    await expect(factory.open('mock://zz', { baudRate: 1 })).rejects.toMatchObject({
      code: 'PORT_NOT_FOUND',
    });
  });
});

describe('serial device checks', () => {
  it('names a missing path with a hint, and refuses a file that is not a device', async () => {
    const factory = serialPortFactory();
    const missing = await factory
      .open('/dev/serial/by-id/usb-nothing-here', { baudRate: 115200 })
      .catch((x) => x);
    expect(isPosbridgeError(missing, 'PORT_NOT_FOUND')).toBe(true);
    expect(missing.message).toContain('/dev/serial/by-id/usb-nothing-here');
    expect(missing.hint).toContain('posbridge ports');
    const dir = mkdtempSync(join(tmpdir(), 'posbridge-ports-'));
    const file = join(dir, 'not-a-tty');
    writeFileSync(file, '');
    await expect(factory.open(file, { baudRate: 115200 })).rejects.toMatchObject({
      code: 'PORT_OPEN_FAILED',
    });
    await expect(factory.open(file, { baudRate: 0 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('holders', () => {
  it('parses /proc/locks, skipping waiters', () => {
    const text = [
      '1: FLOCK  ADVISORY  WRITE 7021 00:19:3 0 EOF',
      '1: -> FLOCK  ADVISORY  WRITE 7100 00:19:3 0 EOF',
      '2: POSIX  ADVISORY  READ 12 fd:01:123456 0 EOF',
      'garbage',
    ].join('\n');
    expect(parseProcLocks(text)).toEqual([
      { type: 'FLOCK', pid: 7021, major: 0, minor: 0x19, inode: 3n },
      { type: 'POSIX', pid: 12, major: 0xfd, minor: 1, inode: 123456n },
    ]);
  });

  it('splits dev_t like glibc', () => {
    expect(splitDev(25n)).toEqual({ major: 0, minor: 25 });
    expect(splitDev((188n << 8n) | 1n)).toEqual({ major: 188, minor: 1 });
    // gnu_dev_makedev(0x1034, 0x1256)
    const dev = (0x1000n << 32n) | (0x034n << 8n) | (0x1200n << 12n) | 0x56n;
    expect(splitDev(dev)).toEqual({ major: 0x1034, minor: 0x1256 });
  });

  it('finds open holders in a /proc tree and describes them', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'posbridge-proc-'));
    const device = join(proc, 'ttyFAKE');
    writeFileSync(device, '');
    mkdirSync(join(proc, '4242', 'fd'), { recursive: true });
    symlinkSync(device, join(proc, '4242', 'fd', '3'));
    writeFileSync(
      join(proc, '4242', 'cmdline'),
      `${['picocom', '-b', '115200', '/dev/ttyUSB0'].join('\u0000')}\u0000`,
    );
    mkdirSync(join(proc, '77', 'fd'), { recursive: true });
    symlinkSync('/elsewhere', join(proc, '77', 'fd', '1'));
    mkdirSync(join(proc, 'self'));
    const holders = await findOpenHolders(device, { procRoot: proc });
    expect(holders).toEqual([{ pid: 4242, self: false, command: 'picocom -b 115200 /dev/ttyUSB0' }]);
    expect(describeHolders(holders)).toBe('pid 4242 (picocom -b 115200 /dev/ttyUSB0)');
    expect(describeHolders([{ pid: 1, self: true }])).toBe('pid 1 (this process)');
  });
});

describe('listPorts', () => {
  it('marks terminals and USB-serial adapters, gives the by-id name, lists terminals first', async () => {
    const ports = await listPorts({
      lister: async () => [
        { path: '/dev/ttyS0' },
        { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', pnpId: 'usb-FTDI_FT232R-if00-port0' },
        {
          path: '/dev/ttyACM0',
          vendorId: '2FB8',
          productId: '2101',
          manufacturer: 'PAX',
          serialNumber: 'S1',
          pnpId: 'usb-PAX_A920_S1-if00',
        },
      ],
    });
    expect(ports.map((p) => [p.path, p.kind, p.looksLikeTerminal])).toEqual([
      ['/dev/ttyACM0', 'terminal', true],
      ['/dev/ttyUSB1', 'adapter', false],
      ['/dev/ttyS0', 'other', false],
    ]);
    expect(ports[0]).toMatchObject({
      byId: '/dev/serial/by-id/usb-PAX_A920_S1-if00',
      vendorId: '2fb8',
      label: 'PAX',
    });
  });

  it('takes a configured allow-list', async () => {
    const ports = await listPorts({
      lister: async () => [{ path: '/dev/ttyACM3', vendorId: '1234', productId: '0001' }],
      terminalIds: [...DEFAULT_TERMINAL_IDS, { vendorId: '1234', productId: '0001', label: 'Acme T1' }],
    });
    expect(ports[0]).toMatchObject({ kind: 'terminal', label: 'Acme T1' });
  });

  it('turns a failing lister into PORT_LIST_FAILED with a hint', async () => {
    const e = await listPorts({
      lister: async () => {
        throw new Error('cannot read /sys/class/tty');
      },
    }).catch((x) => x);
    expect(isPosbridgeError(e, 'PORT_LIST_FAILED')).toBe(true);
    expect(e.hint).toContain('--port /dev/ttyUSB0');
  });
});

describe('GuardedPort', () => {
  it('turns a 0-byte read of a non-unix binding into a disconnect', async () => {
    const inner = {
      openOptions: { path: '/dev/fake' },
      isOpen: true,
      read: async (buffer: Buffer) => ({ buffer, bytesRead: 0 }),
    } as unknown as ConstructorParameters<typeof GuardedPort>[0];
    const port = new GuardedPort(inner);
    const e = await port.read(Buffer.alloc(8), 0, 8).catch((x) => x);
    expect(e).toBeInstanceOf(ZeroByteReadError);
    expect(e.disconnected).toBe(true);
    expect(e.canceled).toBeUndefined();
  });
});

// Keeps the Transport type honest for the memory link.
const _typecheck: (t: Transport) => string = (t) => t.name;
void _typecheck;
