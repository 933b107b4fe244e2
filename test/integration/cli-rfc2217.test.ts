/**
 * rfc2217:// as a person meets it on the command line (in-process CLI, a fake RFC 2217 server):
 * a server that sets another baud than asked is one clear error and exit 3; a bad URL option is a
 * usage error (exit 2) before any connection, so zero bytes reach the terminal.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { productionDeps } from '../../src/cli/compose.js';
import { runCli } from '../../src/cli/program.js';
import { CliHarness, cleanEnv, STACK_LINE } from '../support/cli-inproc.js';
import { FakeRfc2217Server } from '../support/fake-rfc2217.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setUp(behaviour: ConstructorParameters<typeof FakeRfc2217Server>[0]) {
  const server = await new FakeRfc2217Server(behaviour).listen();
  const cli = new CliHarness();
  cleanup.push(
    () => server.close(),
    () => cli.dispose(),
  );
  return { server, cli };
}

describe('posbridge on rfc2217:// ports', () => {
  it('a server that sets another baud: "the serial server set X baud, not Y", exit 3, no TSP/1 sent', async () => {
    const { server, cli } = await setUp({ baud: () => 9600 });
    const run = await cli.run(['info', '--port', server.url()]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`error: ${server.url()}: the serial server set 9600 baud, not 115200`);
    expect(run.stderr).toContain('what to do: Use --baud 9600 if the terminal runs at that rate');
    expect(run.stderr).not.toMatch(STACK_LINE);
    const conn = await server.connection();
    expect(conn.data.text).toBe('');
  });

  it('--baud is what the server is asked for', async () => {
    const { server, cli } = await setUp({ baud: () => 115200 });
    const run = await cli.run(['info', '--port', server.url(), '--baud', '9600', '--json']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({
      error: {
        code: 'PORT_OPEN_FAILED',
        message: `${server.url()}: the serial server set 115200 baud, not 9600`,
      },
    });
  });

  it('an unknown option is a usage error naming it, before any connection', async () => {
    const { server, cli } = await setUp({});
    const run = await cli.run(['info', '--port', server.url('rfc2217', '?ign_set_contol')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown rfc2217:// option "ign_set_contol"');
    expect(run.stderr).toContain('Options: ign_set_control, poll_modem, timeout=SECONDS, logging=LEVEL.');
    expect(server.connections).toHaveLength(0);
  });

  it('an unsupported scheme lists the ones that work', async () => {
    const cli = new CliHarness();
    cleanup.push(() => cli.dispose());
    const run = await cli.run(['info', '--port', 'ssh://bench:22']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unsupported port type ssh://');
    expect(run.stderr).toMatch(/mock:\/\/, rfc2217:\/\/, tcp:\/\/, telnet:\/\/, a device path/);
  });

  it('posbridge ports with no serial port says a serial server can still be named, by scheme', async () => {
    let out = '';
    const io = {
      stdout: {
        write: (t: string) => {
          out += t;
        },
      },
      stderr: { write: () => undefined },
      stdin: Readable.from([]),
      env: cleanEnv('/nonexistent'),
    };
    const code = await runCli(['ports'], { ...productionDeps(io as never), listPorts: async () => [] });
    expect(code).toBe(0);
    expect(out).toBe(
      'no serial ports found (a pty, or a serial server as tcp://, rfc2217:// or telnet://, can still be named with --port)\n',
    );
  });
});
