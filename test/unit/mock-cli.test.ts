/** `posbridge mock` through a small commander program, as src/cli/main.ts will wire it. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMockCommand } from '../support/mock-command.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posbridge-mock-cli-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = runMockCommand;

async function until(condition: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A TSP/1 client over TCP: one request, the lines up to the final one. */
async function tcpSession(port: number, requests: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk.toString('latin1');
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const replies: string[] = [];
  for (const request of requests) {
    socket.write(`${request}\r\n`);
    await until(() => /^(OK|ERR)/m.test(buffered), `reply to ${request}`);
    const lines = buffered.split('\r\n');
    buffered = '';
    replies.push(...lines.filter((l) => l !== ''));
  }
  socket.destroy();
  return replies;
}

describe('posbridge mock', () => {
  it('serves TCP, logs masked lines, saves the state and exits 0 on a signal', async () => {
    const state = path.join(dir, 'pos.json');
    const mock = run([
      '--listen',
      'tcp://127.0.0.1:0',
      '--state',
      state,
      '--sn',
      'SN-CLI-1',
      '--baud',
      '0',
      '--log-level',
      'debug',
    ]);
    await until(() => mock.stdout().includes('listening'), 'the listening line');
    const match = /^mock terminal SN-CLI-1 listening on tcp:\/\/127\.0\.0\.1:(\d+)\n$/.exec(mock.stdout());
    expect(match).not.toBeNull();
    const port = Number(match![1]);
    expect(
      await tcpSession(port, [
        'HELLO',
        'LOGIN user=admin password=1234',
        'PASSWD old=1234 new=Very-Secret-77',
      ]),
    ).toEqual([
      'OK proto=1 model=PB-MOCK sn=SN-CLI-1 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset',
      'OK user=admin must_change=1',
      'OK',
    ]);
    mock.stop('SIGINT');
    expect(await mock.code).toBe(0);
    const logs = mock.stderr();
    expect(logs).toContain('"request":"PASSWD old=\\"***\\" new=\\"***\\""');
    expect(logs).not.toContain('Very-Secret-77');
    expect(logs).not.toMatch(/password=1234/);
    expect(logs).toContain('"reason":"SIGINT"');
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).admin.factoryPassword).toBe(false);

    const again = run([
      '--listen',
      'tcp://127.0.0.1:0',
      '--state',
      state,
      '--baud',
      '0',
      '--log-level',
      'silent',
    ]);
    await until(() => again.stdout().includes('listening'), 'the listening line');
    const port2 = Number(/:(\d+)\n$/.exec(again.stdout())![1]);
    expect(await tcpSession(port2, ['LOGIN user=admin password=Very-Secret-77'])).toEqual([
      'OK user=admin must_change=0',
    ]);
    again.stop();
    expect(await again.code).toBe(0);
  });

  it('applies the identity, faults, diag faults and tamper options', async () => {
    const mock = run([
      '--listen',
      'tcp://127.0.0.1:0',
      '--model',
      'PX-9',
      '--fw',
      '4.2',
      '--tamper',
      '--diag-fail',
      'printer:cover_open',
      '--fault',
      'spurious-evt:p=1,name=beep',
      '--seed',
      '9',
      '--baud',
      '0',
      '--log-level',
      'info',
    ]);
    await until(() => mock.stdout().includes('listening'), 'the listening line');
    const port = Number(/:(\d+)\n$/.exec(mock.stdout())![1]);
    const lines = await tcpSession(port, ['HELLO', 'STATUS']);
    expect(lines[0]).toBe('EVT beep seq=1');
    expect(lines[1]).toMatch(/^OK proto=1 model=PX-9 sn=PBM0000001 fw=4.2 /);
    expect(lines[3]).toContain(' tamper=1 ');
    mock.stop();
    expect(await mock.code).toBe(0);
    expect(mock.stderr()).toContain('rerun with --seed 9');
  });

  it.each([
    [
      ['--fault', 'explode:p=1'],
      /option '--fault <spec>' argument 'explode:p=1' is invalid\. fault "explode:p=1": unknown fault/,
    ],
    [['--diag-fail', 'printer:jammed'], /unknown code for printer/],
    [['--listen', 'http://x:1'], /expected tcp:\/\/HOST:PORT/],
    [['--listen', 'tcp://127.0.0.1:70000'], /expected tcp:\/\/HOST:PORT/],
    [['--sn', 'a b'], /--sn may only use letters/],
    [['--baud', '-1'], /--baud must be a whole number/],
    [['--seed', 'x'], /--seed must be a whole number/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const mock = run(args as string[]);
    expect(await mock.code).toBe(2);
    expect(mock.stderr()).toMatch(message as RegExp);
    expect(mock.stderr().trim().split('\n')).toHaveLength(1);
    expect(mock.stdout()).toBe('');
  });

  it('refuses a broken state file with one line naming the file and the field (exit 2)', async () => {
    const state = path.join(dir, 'pos.json');
    fs.writeFileSync(state, JSON.stringify({ version: 1 }));
    const mock = run(['--listen', 'tcp://127.0.0.1:0', '--state', state]);
    expect(await mock.code).toBe(2);
    expect(mock.stderr()).toBe(
      `posbridge mock: state file ${state}: field identity: Invalid input: expected object, received undefined\n`,
    );
  });

  it('reports an address already in use (exit 1)', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const mock = run(['--listen', `tcp://127.0.0.1:${port}`, '--log-level', 'silent']);
    expect(await mock.code).toBe(1);
    expect(mock.stderr()).toMatch(
      new RegExp(`^posbridge mock: Cannot listen on tcp://127.0.0.1:${port}: .*EADDRINUSE`),
    );
    server.close();
  });
});
