import { once } from 'node:events';
import { SerialPortStream } from '@serialport/stream';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/mock-device/transports/errors.js';
import {
  createInProcessBinding,
  type InProcessPort,
} from '../../src/mock-device/transports/inproc-binding.js';
import { LinkRecorder } from '../support/link-recorder.js';
import { ByteSink, deadline } from '../support/wait.js';

const PATH = 'mock://a';

function setup(recorder = new LinkRecorder()) {
  const binding = createInProcessBinding((path) => (path === PATH ? recorder.handler : undefined), {
    list: () => [PATH],
  });
  return { binding, recorder };
}

async function openStream(binding: ReturnType<typeof setup>['binding'], path = PATH) {
  const stream = new SerialPortStream({ binding, path, baudRate: 115200 });
  const received = new ByteSink();
  stream.on('data', received.push);
  await deadline(once(stream, 'open'), `${path} to open`);
  return { stream, received };
}

/** Resolves with the error argument of the stream's 'close' event. */
function closeEvent(stream: SerialPortStream): Promise<(Error & { disconnected?: boolean }) | null> {
  return deadline(
    once(stream, 'close').then(([error]) => error ?? null),
    'the stream to emit close',
  );
}

describe('in-process serialport binding', () => {
  it('carries bytes both ways, unchanged, between a SerialPortStream and the terminal', async () => {
    const { binding, recorder } = setup();
    const { stream, received } = await openStream(binding);
    const probe = await recorder.next();
    expect(probe.link.label).toBe(`inproc ${PATH}`);

    stream.write('HELLO\r');
    stream.write(Buffer.from([0x00, 0xff, 0x0a]));
    await probe.received.waitForLength(9, 'the request at the terminal');
    expect(probe.received.bytes).toEqual(Buffer.from('HELLO\r\x00\xff\n', 'latin1'));

    probe.link.send(Buffer.from('OK proto=1\r\n'));
    probe.link.send(new Uint8Array([0x00, 0x80]));
    await received.waitForLength(14, 'the reply at the host');
    expect(received.bytes).toEqual(Buffer.from('OK proto=1\r\n\x00\x80', 'latin1'));

    stream.close();
    await closeEvent(stream);
  });

  it('holds host bytes written before the terminal registered onReceive', async () => {
    let release!: () => void;
    const registered = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { binding, recorder } = setup(new LinkRecorder({ receiveAfter: () => registered }));
    const { stream } = await openStream(binding);
    const probe = await recorder.next();
    stream.write('EARLY\r\n');
    await deadline(new Promise<void>((resolve) => stream.drain(() => resolve())), 'the write to drain');
    release();
    stream.write('LATE\r\n');
    await probe.received.waitForLength(13, 'both lines');
    expect(probe.received.text).toBe('EARLY\r\nLATE\r\n');
    stream.close();
    await closeEvent(stream);
  });

  it('opens a path exclusively: a second open fails as busy, naming the path', async () => {
    const { binding } = setup();
    const { stream } = await openStream(binding);
    const second = new SerialPortStream({ binding, path: PATH, baudRate: 115200, autoOpen: false });
    const error = await deadline(
      new Promise<Error | null>((resolve) => second.open((err) => resolve(err))),
      'the second open to fail',
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('PORT_BUSY');
    expect(error?.message).toContain('busy');
    expect(error?.message).toContain(PATH);
    expect(binding.isOpen(PATH)).toBe(true);
    stream.close();
    await closeEvent(stream);
    expect(binding.isOpen(PATH)).toBe(false);
  });

  it('refuses an unknown path with an error naming it, and lists the known ones', async () => {
    const { binding } = setup();
    const error = await binding.open({ path: 'mock://nope', baudRate: 115200 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('UNKNOWN_PORT');
    expect((error as Error).message).toContain('mock://nope');
    expect((await binding.list()).map((info) => info.path)).toEqual([PATH]);
  });

  it('host close ends the link once, frees the path, and a reopen is a new link', async () => {
    const { binding, recorder } = setup();
    const first = await openStream(binding);
    const probe1 = await recorder.next();
    first.stream.write('BYE\r\n');
    first.stream.close();
    expect(await closeEvent(first.stream)).toBeNull();
    await deadline(probe1.closed, 'the terminal to see the close');
    // Bytes written just before the close still reached the terminal.
    expect(probe1.received.text).toBe('BYE\r\n');
    expect(binding.unplug(PATH)).toBe(false);
    probe1.link.close();
    probe1.link.send(Buffer.from('dropped'));

    const second = await openStream(binding);
    const probe2 = await recorder.next('the second link');
    expect(probe2.link).not.toBe(probe1.link);
    probe2.link.send(Buffer.from('OK\r\n'));
    await second.received.waitForLength(4, 'the reply on the second link');
    expect(second.received.text).toBe('OK\r\n');
    second.stream.close();
    await closeEvent(second.stream);
    await deadline(probe2.closed, 'the second link to close');
    expect(probe1.closeCount).toBe(1);
    expect(probe2.closeCount).toBe(1);
  });

  it('a terminal closing its link is an unplug: bytes sent before still arrive, then a disconnect', async () => {
    const { binding, recorder } = setup();
    const { stream, received } = await openStream(binding);
    const probe = await recorder.next();
    const closed = closeEvent(stream);
    probe.link.send(Buffer.from('EVT bye\r\n'));
    probe.link.close();
    const error = await closed;
    expect(error?.disconnected).toBe(true);
    expect(error?.message).toContain(PATH);
    expect(received.text).toBe('EVT bye\r\n');
    await deadline(probe.closed, 'onClose');
    expect(probe.closeCount).toBe(1);
    // The cable is out: the path is free for the next plug-in.
    expect(binding.isOpen(PATH)).toBe(false);
  });

  it('unplug(path) disconnects the host and ends the terminal link once', async () => {
    const { binding, recorder } = setup();
    const { stream } = await openStream(binding);
    const probe = await recorder.next();
    const closed = closeEvent(stream);
    expect(binding.unplug(PATH)).toBe(true);
    expect((await closed)?.disconnected).toBe(true);
    await deadline(probe.closed, 'onClose');
    expect(probe.closeCount).toBe(1);
  });

  it('settles reads pending at close (canceled) and at disconnect (disconnected)', async () => {
    const { binding, recorder } = setup();
    const buffer = Buffer.alloc(64);

    const port1: InProcessPort = await binding.open({ path: PATH, baudRate: 115200 });
    const read1 = port1.read(buffer, 0, 64).catch((err: unknown) => err);
    await port1.close();
    const canceled = (await deadline(read1, 'the read pending at close')) as TransportError;
    expect(canceled.canceled).toBe(true);
    await deadline((await recorder.next()).closed, 'the first link to close');

    const port2 = await binding.open({ path: PATH, baudRate: 115200 });
    const read2 = port2.read(buffer, 0, 64).catch((err: unknown) => err);
    (await recorder.next()).link.close();
    const gone = (await deadline(read2, 'the read pending at unplug')) as TransportError;
    expect(gone.disconnected).toBe(true);
    expect(gone.canceled).toBe(false);
    // Later calls fail the same way instead of hanging; close still works.
    await expect(port2.read(buffer, 0, 64)).rejects.toMatchObject({ disconnected: true });
    await expect(port2.write(Buffer.from('x'))).rejects.toMatchObject({ disconnected: true });
    await port2.close();
    expect(port2.isOpen).toBe(false);
  });

  it('reads return what is available, split across reads by the requested length', async () => {
    const { binding, recorder } = setup();
    const port = await binding.open({ path: PATH, baudRate: 9600 });
    const probe = await recorder.next();
    probe.link.send(Buffer.from('abc'));
    probe.link.send(Buffer.from('def'));
    const buffer = Buffer.alloc(8);
    expect((await port.read(buffer, 2, 4)).bytesRead).toBe(4);
    expect(buffer.subarray(2, 6).toString()).toBe('abcd');
    expect((await port.read(buffer, 0, 8)).bytesRead).toBe(2);
    expect(buffer.subarray(0, 2).toString()).toBe('ef');
    await port.update({ baudRate: 115200 });
    expect(await port.getBaudRate()).toEqual({ baudRate: 115200 });
    await port.close();
  });
});
