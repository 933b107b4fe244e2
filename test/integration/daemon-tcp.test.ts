/**
 * tcp:// ports: the driver over a real TCP connection to the mock terminal's TCP transport.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError } from '../../src/host/errors.js';
import { createPortRegistry } from '../../src/host/ports/registry.js';
import { tcpPortFactory } from '../../src/host/ports/tcp.js';
import { Secret } from '../../src/host/secret.js';
import { MockTerminal } from '../../src/mock-device/index.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/tcp.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(): Promise<{ terminal: MockTerminal; server: TcpListener; url: string }> {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0 });
  const server = await listenTcp({ port: 0 }, (link) => terminal.attach(link));
  cleanup.push(() => server.close());
  return { terminal, server, url: `tcp://127.0.0.1:${server.address.port}` };
}

describe('tcp:// ports', () => {
  it('drives the mock terminal over TCP', async () => {
    const { url } = await serve();
    const driver = await TerminalDriver.open(url, { registry: createPortRegistry(), logger: silentLogger });
    cleanup.push(() => driver.close());
    const hello = await driver.hello();
    expect(hello.proto).toBe(1);
    expect(await driver.login('admin', new Secret('1234'))).toEqual({ user: 'admin', mustChange: true });
    expect((await driver.status()).login).toBe('admin');
  });

  it('a refused connection is PORT_OPEN_FAILED naming the port', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await tcpPortFactory()
      .open(`tcp://127.0.0.1:${port}`, { baudRate: 115200 })
      .catch((e) => e);
    expect(isPosbridgeError(error, 'PORT_OPEN_FAILED')).toBe(true);
    expect(error.message).toContain(`tcp://127.0.0.1:${port}`);
  });

  it('the server going away fails the pending request with DISCONNECTED', async () => {
    const { url, server } = await serve();
    const transport = await tcpPortFactory().open(url, { baudRate: 115200 });
    cleanup.push(() => transport.close());
    const closes: Array<Error | undefined> = [];
    transport.onClose((e) => closes.push(e));
    await server.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(transport.closed).toBe(true);
    expect(closes).toHaveLength(1);
    expect((closes[0] as { disconnected?: boolean }).disconnected).toBe(true);
    await expect(transport.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('close() from our side ends the link without an error, once', async () => {
    const { url, terminal } = await serve();
    const transport = await tcpPortFactory().open(url, { baudRate: 115200 });
    const closes: Array<Error | undefined> = [];
    transport.onClose((e) => closes.push(e));
    await new Promise((r) => setTimeout(r, 20));
    expect(terminal.connectionCount).toBe(1);
    await Promise.all([transport.close(), transport.close()]);
    expect(closes).toEqual([undefined]);
    await new Promise((r) => setTimeout(r, 20));
    expect(terminal.connectionCount).toBe(0);
  });
});
