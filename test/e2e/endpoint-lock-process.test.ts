/**
 * Issue 9, item 1, with real processes: while one posbridge (a console, a daemon) holds a tcp://
 * terminal, another posbridge naming it in any spelling is refused with exit 3, "port busy: <port>
 * is held by pid N (command)", and sends nothing (the terminal here counts every byte it receives,
 * per connection). kill -9 of the holder leaves no lock behind; a holder stopped with Ctrl-Z
 * (SIGSTOP), which cannot answer, is still named (from /proc).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceLink } from '../../src/mock-device/index.js';
import { MockTerminal } from '../../src/mock-device/index.js';
import { listenTcp, type TcpListener } from '../../src/mock-device/transports/index.js';
import { cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { Children, requireBuiltCli, runCliProcess } from '../support/cli-process.js';
import { E2E_SHORT_TIMEOUT_MS as E2E_TIMEOUT_MS } from '../support/constants.js';

let dir: string;
let server: TcpListener | undefined;
let terminal: MockTerminal | undefined;
const children = new Children();

/** Bytes received on each connection, in the order they were opened. */
let received: number[];
let connected: (() => void) | undefined;

beforeEach(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'posbridge-e2e-lock-'));
  received = [];
  terminal = new MockTerminal({ diagTimeScale: 0 });
  server = await listenTcp({ port: 0 }, (link) => {
    const index = received.push(0) - 1;
    terminal!.attach(counting(link, (n) => (received[index]! += n)));
    connected?.();
  });
});
afterEach(async () => {
  await children.stopAll();
  await server?.close();
  terminal?.close();
  rmSync(dir, { recursive: true, force: true });
});

function counting(link: DeviceLink, count: (n: number) => void): DeviceLink {
  return {
    label: link.label,
    send: (bytes) => link.send(bytes),
    onReceive: (handler) =>
      link.onReceive((bytes) => {
        count(bytes.length);
        handler(bytes);
      }),
    onClose: (handler) => link.onClose(handler),
    close: () => link.close(),
  };
}

function nextConnection(): Promise<void> {
  return new Promise((resolve) => {
    connected = resolve;
  });
}

describe('one owner per tcp:// terminal across processes', () => {
  it(
    'a second run is refused naming the console that holds it and sends nothing; kill -9 of the holder frees it',
    async () => {
      const port = server!.address.port;
      const env = cleanEnv(dir);
      const holder = children.spawn(['console', '--port', `tcp://127.0.0.1:${port}`], { cwd: dir, env });
      holder.child.stdin.write('HELLO\n');
      await holder.waitForStdout(/^< @\d+ OK proto=1 /m, 'the console to show the HELLO reply');
      const holderBytes = received[0]!;
      expect(received).toHaveLength(1);

      for (const spelling of [`tcp://localhost:${port}`, `tcp://127.0.0.1:${port}`, `tcp://[::1]:${port}`]) {
        const second = await runCliProcess(['info', '--port', spelling], { cwd: dir, env });
        expect(second.code, second.stderr).toBe(3);
        expect(second.stdout).toBe('');
        expect(second.stderr).toContain(
          `port busy: ${spelling} is held by pid ${holder.pid} (posbridge console --port tcp://127.0.0.1:${port})`,
        );
        expect(second.stderr).not.toMatch(STACK_LINE);
      }
      const asJson = await runCliProcess(['info', '--port', `tcp://localhost:${port}`, '--json'], {
        cwd: dir,
        env,
      });
      expect(asJson.code).toBe(3);
      const { error } = JSON.parse(asJson.stdout);
      expect(error.code).toBe('PORT_BUSY');
      expect(error.message).toContain(`is held by pid ${holder.pid} (posbridge console`);
      // Not one connection, not one byte from the refused runs.
      expect(received).toEqual([holderBytes]);

      holder.kill('SIGKILL');
      expect((await holder.waitForExit()).signal).toBe('SIGKILL');
      const after = await runCliProcess(['info', '--port', `tcp://localhost:${port}`], { cwd: dir, env });
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toContain('PB-MOCK sn PBM0000001');
      expect(received).toHaveLength(2);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'a holder stopped with Ctrl-Z (it cannot answer) is still named, from /proc',
    async () => {
      const port = server!.address.port;
      const env = cleanEnv(dir);
      const holder = children.spawn(['console', '--port', `tcp://127.0.0.1:${port}`], { cwd: dir, env });
      holder.child.stdin.write('HELLO\n');
      await holder.waitForStdout(/^< @\d+ OK proto=1 /m, 'the console to show the HELLO reply');
      process.kill(holder.pid, 'SIGSTOP');
      try {
        const second = await runCliProcess(['info', '--port', `tcp://127.0.0.1:${port}`], { cwd: dir, env });
        expect(second.code, second.stderr).toBe(3);
        expect(second.stderr).toMatch(new RegExp(`is held by pid ${holder.pid} \\(.*console --port`));
      } finally {
        process.kill(holder.pid, 'SIGCONT');
      }
      expect(received).toHaveLength(1);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'the daemon holds the ports it manages: a run that does not go through it is refused naming it',
    async () => {
      const port = server!.address.port;
      const config = join(dir, 'daemon.json');
      writeFileSync(config, JSON.stringify({ ports: [`tcp://127.0.0.1:${port}`] }));
      const identified = nextConnection();
      const daemon = children.spawn(
        ['daemon', '--socket', join(dir, 'daemon.sock'), '--config', config, '--log-level', 'warn'],
        { cwd: dir },
      );
      await identified;
      // Another socket: this run cannot find the daemon and opens the port itself.
      const env = cleanEnv(dir, { POSBRIDGE_SOCKET: join(dir, 'elsewhere.sock') });
      const second = await runCliProcess(['diag', '--port', `tcp://localhost:${port}`], { cwd: dir, env });
      expect(second.code, second.stderr).toBe(3);
      expect(second.stderr).toContain(`is held by pid ${daemon.pid} (posbridge daemon --socket`);
      expect(received).toHaveLength(1);
      daemon.kill('SIGTERM');
      expect((await daemon.waitForExit()).code).toBe(0);
    },
    E2E_TIMEOUT_MS,
  );
});
