import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/mock-device/transports/errors.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/tcp.js';
import { LinkRecorder } from '../support/link-recorder.js';
import { ByteSink, deadline } from '../support/wait.js';

interface Client {
  socket: net.Socket;
  received: ByteSink;
  closed: Promise<unknown>;
}

async function connect(address: { host: string; port: number }): Promise<Client> {
  const socket = net.connect(address.port, address.host);
  const received = new ByteSink();
  socket.on('data', received.push);
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  await deadline(once(socket, 'connect'), 'the TCP connection');
  return { socket, received, closed };
}

describe('TCP transport', () => {
  let transport: TcpListener | undefined;
  afterEach(async () => {
    await transport?.close();
    transport = undefined;
  });

  it('makes each connection its own link, with bytes both ways and no crosstalk', async () => {
    const recorder = new LinkRecorder();
    transport = await listenTcp({ host: '127.0.0.1', port: 0 }, recorder.handler);
    expect(transport.address.port).toBeGreaterThan(0);

    const a = await connect(transport.address);
    const linkA = await recorder.next('link A');
    const b = await connect(transport.address);
    const linkB = await recorder.next('link B');
    expect(linkA.link.label).toBe(`tcp 127.0.0.1:${a.socket.localPort}`);
    expect(linkB.link.label).toBe(`tcp 127.0.0.1:${b.socket.localPort}`);

    a.socket.write('HELLO\r');
    b.socket.write(Buffer.from([0x00, 0xff]));
    await linkA.received.waitForLength(6, 'A request');
    await linkB.received.waitForLength(2, 'B request');
    expect(linkA.received.text).toBe('HELLO\r');
    expect(linkB.received.bytes).toEqual(Buffer.from([0x00, 0xff]));

    linkA.link.send(Buffer.from('OK a\r\n'));
    linkB.link.send(Buffer.from('OK b\r\n'));
    await a.received.waitForLength(6, 'A reply');
    await b.received.waitForLength(6, 'B reply');
    expect(a.received.text).toBe('OK a\r\n');
    expect(b.received.text).toBe('OK b\r\n');

    await transport.close();
    await deadline(Promise.all([a.closed, b.closed]), 'both clients to be disconnected');
    expect([linkA.closeCount, linkB.closeCount]).toEqual([1, 1]);
    const refused = net.connect(transport.address.port, transport.address.host);
    const [error] = await deadline(once(refused, 'error'), 'the refused connection');
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('a terminal closing its link ends the connection after the bytes it sent', async () => {
    const recorder = new LinkRecorder();
    transport = await listenTcp({ port: 0 }, recorder.handler);
    const client = await connect(transport.address);
    const probe = await recorder.next();
    probe.link.send(Buffer.from('EVT bye\r\n'));
    probe.link.close();
    await deadline(client.closed, 'the client to be disconnected');
    expect(client.received.text).toBe('EVT bye\r\n');
    await deadline(probe.closed, 'onClose');
    expect(probe.closeCount).toBe(1);
  });

  it('a host that resets its connection ends the link without an error escaping', async () => {
    const recorder = new LinkRecorder();
    transport = await listenTcp({ port: 0 }, recorder.handler);
    const client = await connect(transport.address);
    const probe = await recorder.next();
    client.socket.resetAndDestroy();
    await deadline(probe.closed, 'onClose after a reset');
    probe.link.send(Buffer.from('dropped after close'));
    expect(probe.closeCount).toBe(1);
  });

  it('fails to listen on a port in use with a LISTEN_FAILED error naming the address', async () => {
    transport = await listenTcp({ port: 0 }, () => {});
    const error = await listenTcp(transport.address, () => {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('LISTEN_FAILED');
    expect((error as Error).message).toContain(`127.0.0.1:${transport.address.port}`);
  });
});
