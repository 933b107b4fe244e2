/**
 * The port manager on tcp:// ports (a raw serial server: here the mock terminal's TCP transport):
 * identified at start, operations through the same LocalEngine as the CLI with leases as the
 * connector, a server that stops answering found dead by the heartbeat, and a dropped connection
 * picked up again.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../../src/daemon/config/index.js';
import { createDaemonPorts, type DaemonPorts } from '../../src/daemon/port-manager/index.js';
import { LocalEngine } from '../../src/host/engine.js';
import type { HubEvent } from '../../src/host/hub.js';
import { createPortRegistry } from '../../src/host/ports/index.js';
import { Secret } from '../../src/host/secret.js';
import { type MockBehaviour, MockTerminal, type MockTerminalOptions } from '../../src/mock-device/index.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/index.js';
import { deadline } from '../support/wait.js';
import { silentLogger } from '../unit/daemon-wire.helper.js';

class Meter implements MockBehaviour {
  readonly name = 'test:meter';
  readonly verbs: string[] = [];
  muted = false;
  onRequest(info: { request: { verb: string } }): { dropReply: true } | undefined {
    this.verbs.push(info.request.verb);
    return this.muted ? { dropReply: true } : undefined;
  }
}

interface Served {
  port: string;
  terminal: MockTerminal;
  meter: Meter;
  server: TcpListener;
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(options: MockTerminalOptions = {}): Promise<Served> {
  const terminal = new MockTerminal({ baud: 0, diagTimeScale: 0, rebootMs: 5, ...options });
  const meter = new Meter();
  terminal.addBehaviour(meter, 'last');
  const server = await listenTcp({ host: '127.0.0.1', port: 0 }, (link) => terminal.attach(link));
  cleanup.push(
    () => terminal.close(),
    () => server.close(),
  );
  return { port: `tcp://127.0.0.1:${server.address.port}`, terminal, meter, server };
}

function start(ports: string[], heartbeatMs = 300): { daemon: DaemonPorts; events: HubEvent[] } {
  const config = {
    ...defaultDaemonConfig(() => 'tcp-test'),
    ports,
    watch: [],
    timeouts: { requestMs: 200, identifyMs: 2000, heartbeatMs },
  };
  const daemon = createDaemonPorts({
    config,
    registry: createPortRegistry(),
    logger: silentLogger,
    lister: async () => [],
  });
  const events: HubEvent[] = [];
  daemon.manager.subscribe((event) => events.push(event));
  cleanup.push(() => daemon.manager.close());
  return { daemon, events };
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  await deadline(
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    what,
    ms,
  );
}

const seen = (events: HubEvent[], type: HubEvent['type'], state?: string) => (): boolean =>
  events.some((e) => e.type === type && 'terminal' in e && (!state || e.terminal.state === state));

describe('port manager on tcp:// ports', () => {
  it('identifies configured tcp:// ports at start; operations run through leases with the CLI engine', async () => {
    const a = await serve({ identity: { sn: 'TCPA' } });
    const b = await serve({ identity: { sn: 'TCPB' } });
    const { daemon } = start([a.port, b.port], 0);
    await daemon.manager.start();
    await daemon.manager.settled();
    const listed = daemon.manager.list().map((t) => [t.port, t.state, t.hello?.sn]);
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        [a.port, 'present', 'TCPA'],
        [b.port, 'present', 'TCPB'],
      ]),
    );
    const engine = new LocalEngine({
      connect: (port) => daemon.manager.lease(port),
      now: () => new Date(),
      randomBytes: (n) => randomBytes(n),
    });
    const info = await engine.info({ port: a.port });
    expect(info.status.factoryPw).toEqual(['admin', '01']);
    // An operation by hand through a lease: the admin replaces the factory password.
    const lease = await daemon.manager.lease(a.port);
    await lease.login('admin', new Secret('1234'));
    await lease.passwd({ old: new Secret('1234'), new: new Secret('Tcp-Admin-42x') });
    await lease.logout();
    await lease.close();
    expect((await engine.info({ port: a.port })).status.factoryPw).toEqual(['01']);
    await until('the list to show it', () =>
      daemon.manager.list().some((t) => t.port === a.port && t.status?.factoryPw.join() === '01'),
    );
    // The engine's close() gave the lease back: the port is still open, one connection in all.
    expect(a.terminal.connectionCount).toBe(1);
    expect(daemon.manager.list().find((t) => t.port === a.port)?.state).toBe('present');
  });

  it('a server that stops answering is found dead by the heartbeat: terminal-removed', async () => {
    const a = await serve();
    const { daemon, events } = start([a.port]);
    await daemon.manager.start();
    await daemon.manager.settled();
    const started = Date.now();
    a.meter.muted = true;
    await until('terminal-removed', seen(events, 'terminal-removed', 'gone'));
    const removed = events.find((e) => e.type === 'terminal-removed') as Extract<
      HubEvent,
      { type: 'terminal-removed' }
    >;
    expect(removed.terminal.error?.code).toBe('DISCONNECTED');
    expect(Date.now() - started).toBeLessThan(8000);
    expect(daemon.manager.list().filter((t) => t.state === 'present')).toEqual([]);
  });

  it('a dropped connection (silent-after: the terminal pulls the cable) is removed, then connected again', async () => {
    const a = await serve({ faults: 'silent-after:bytes=300' });
    const { daemon, events } = start([a.port]);
    await daemon.manager.start();
    await until('terminal-removed', seen(events, 'terminal-removed'));
    const at = events.findIndex((e) => e.type === 'terminal-removed');
    await until('present again', () =>
      events.slice(at).some((e) => e.type === 'terminal-updated' && e.terminal.state === 'present'),
    );
    expect(daemon.manager.list()[0]?.state).toMatch(/present|busy/);
  });
});
