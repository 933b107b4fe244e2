/**
 * The serial transport over serialport's own mock binding (SerialPortMock.binding). Its port
 * registry is module-global: reset between tests. It has no unplug, so the test wraps the binding:
 * `unplug()` makes the pending read fail with a non-cancel error, which is what a real binding
 * reports when the device goes away (SerialPortStream then closes with a DisconnectedError).
 */
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { isPosbridgeError } from '../../src/host/errors.js';
import { serialPortFactory } from '../../src/host/ports/serial.js';
import type { Transport } from '../../src/host/ports/transport.js';
import { Session } from '../../src/host/session.js';
import { encodeOk, LineSplitter, readRequest } from '../../src/protocol/index.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

const PATH = '/dev/ttyPOSMOCK0';
type MockPort = Awaited<ReturnType<typeof SerialPortMock.binding.open>>;

/** The mock binding, with a scripted terminal behind each port and a way to pull the cable. */
function scriptedBinding(answer: (verb: string) => boolean) {
  let unplug: ((error: Error) => void) | undefined;
  const binding = {
    list: () => SerialPortMock.binding.list(),
    async open(options: Parameters<typeof SerialPortMock.binding.open>[0]) {
      const port: MockPort = await SerialPortMock.binding.open(options);
      const splitter = new LineSplitter();
      const unplugged = new Promise<never>((_, reject) => {
        unplug = reject;
      });
      unplugged.catch(() => {});
      const read = port.read.bind(port);
      const write = port.write.bind(port);
      port.read = (buffer, offset, length) => Promise.race([read(buffer, offset, length), unplugged]);
      port.write = async (buffer) => {
        await write(buffer);
        for (const frame of splitter.push(buffer)) {
          const result = readRequest(frame);
          if (!result.ok || !answer(result.request.verb)) continue;
          const { id, verb } = result.request;
          port.emitData(`${encodeOk({ id, crc: true }, [['verb', verb]])}\r\n`);
        }
      };
      return port;
    },
  };
  return {
    binding,
    unplug: () => unplug?.(Object.assign(new Error('device reports: no such device'), { code: 'ENXIO' })),
  };
}

const open: Transport[] = [];
afterEach(async () => {
  for (const transport of open.splice(0)) await transport.close();
  SerialPortMock.binding.reset();
});

describe('serial transport on SerialPortMock', () => {
  it('exchanges requests and replies', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: false, record: true });
    const { binding } = scriptedBinding(() => true);
    const transport = await serialPortFactory({ binding }).open(PATH, { baudRate: 115200 });
    open.push(transport);
    const session = new Session(transport, { logger: silentLogger, random: () => 0 });
    expect((await session.request('HELLO', { proto: 1 })).fields).toEqual({ verb: 'HELLO' });
    expect((await session.request('STATUS')).id).toBe('2');
  });

  it('maps open failures: PORT_NOT_FOUND, PORT_BUSY', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: false });
    const factory = serialPortFactory({ binding: SerialPortMock.binding });
    await expect(factory.open('/dev/ttyNOPE', { baudRate: 115200 })).rejects.toMatchObject({
      code: 'PORT_NOT_FOUND',
    });
    open.push(await factory.open(PATH, { baudRate: 115200 }));
    const busy = await factory.open(PATH, { baudRate: 115200 }).catch((e) => e);
    expect(isPosbridgeError(busy, 'PORT_BUSY')).toBe(true);
    expect(busy.message).toContain(PATH);
  });

  it('an unplug mid-command fails the pending and queued requests fast with DISCONNECTED', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: false, record: true });
    const { binding, unplug } = scriptedBinding((verb) => verb !== 'DIAG');
    const transport = await serialPortFactory({ binding }).open(PATH, { baudRate: 115200 });
    open.push(transport);
    const session = new Session(transport, {
      logger: silentLogger,
      timeoutMs: 10_000,
      slowTimeoutMs: 30_000,
    });
    await session.request('STATUS');
    const closes: string[] = [];
    transport.onClose((error) => closes.push(String(error?.message)));
    const started = Date.now();
    const pending = session.request('DIAG').catch((e) => e);
    const queued = session.request('STATUS').catch((e) => e);
    await new Promise((r) => setTimeout(r, 20));
    unplug();
    const [first, second] = await Promise.all([pending, queued]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(isPosbridgeError(first, 'DISCONNECTED')).toBe(true);
    expect(isPosbridgeError(second, 'DISCONNECTED')).toBe(true);
    expect(first.message).toContain('no such device');
    expect(closes).toEqual(['device reports: no such device']);
    await expect(session.request('HELLO')).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('close() ends the transport once, and writes after it fail', async () => {
    SerialPortMock.binding.createPort(PATH, { echo: false });
    const transport = await serialPortFactory({ binding: SerialPortMock.binding }).open(PATH, {
      baudRate: 115200,
    });
    const closes: Array<Error | undefined> = [];
    transport.onClose((e) => closes.push(e));
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    expect(closes).toEqual([undefined]);
    await expect(transport.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'DISCONNECTED' });
    // The path is free again.
    open.push(await serialPortFactory({ binding: SerialPortMock.binding }).open(PATH, { baudRate: 115200 }));
  });
});
