import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/daemon/discovery/glob.js';
import { TransportError } from '../../src/mock-device/transports/errors.js';
import { openPty, type PtyTransport } from '../../src/mock-device/transports/pty.js';
import { hangupSafeLinuxBinding } from '../support/hangup-safe-binding.js';
import { LinkRecorder } from '../support/link-recorder.js';
import { ByteSink, deadline } from '../support/wait.js';

type Host = { port: SerialPortStream; received: ByteSink };

async function openHost(linkPath: string, port?: SerialPortStream): Promise<Host> {
  const host = port ?? new SerialPort({ path: linkPath, baudRate: 115200 });
  const received = new ByteSink();
  host.on('data', received.push);
  // Attached before anything can fail, so that no 'error' event is ever unhandled.
  host.on('error', () => {});
  await deadline(once(host, 'open'), `the host to open ${linkPath}`);
  return { port: host, received };
}

async function closeHost(host: Host): Promise<void> {
  const closed = once(host.port, 'close');
  host.port.close();
  await deadline(closed, 'the host port to close');
}

function closeEvent(port: SerialPortStream): Promise<(Error & { disconnected?: boolean }) | null> {
  return deadline(
    once(port, 'close').then(([error]) => error ?? null),
    'the host port to emit close',
  );
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('pty transport with the real serialport binding', () => {
  let dir: string;
  let linkPath: string;
  let transport: PtyTransport | undefined;
  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'posbridge-pty-'));
    linkPath = path.join(dir, 'pos0');
  });
  afterEach(async () => {
    await transport?.close();
    transport = undefined;
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('carries bytes both ways in raw mode: CR arrives as CR, every byte value unchanged', async () => {
    const recorder = new LinkRecorder();
    transport = await openPty({ linkPath }, recorder.handler);
    expect(transport.path).toBe(linkPath);
    expect(fs.readlinkSync(linkPath)).toBe(transport.slavePath);
    expect(transport.slavePath).toMatch(/^\/dev\/pts\/\d+$/);

    const host = await openHost(linkPath);
    const probe = await recorder.next('the link for the host');
    expect(probe.link.label).toBe(`pty ${linkPath}`);

    host.port.write('hello\r');
    await probe.received.waitForLength(6, 'the typed line');
    expect(probe.received.text).toBe('hello\r');

    probe.link.send(Buffer.from('OK proto=1\r\n'));
    await host.received.waitForLength(12, 'the reply');
    expect(host.received.text).toBe('OK proto=1\r\n');

    host.port.write(ALL_BYTES);
    await probe.received.waitForLength(6 + 256, 'all 256 byte values at the terminal');
    expect(probe.received.bytes.subarray(6)).toEqual(ALL_BYTES);
    probe.link.send(ALL_BYTES);
    await host.received.waitForLength(12 + 256, 'all 256 byte values at the host');
    expect(host.received.bytes.subarray(12)).toEqual(ALL_BYTES);

    await closeHost(host);
    await deadline(probe.closed, 'the link to end when the host closes');
    expect(probe.closeCount).toBe(1);
  });

  it('makes each open→close of the slave its own link, including an immediate reopen', async () => {
    const recorder = new LinkRecorder();
    transport = await openPty({ linkPath }, recorder.handler);

    const first = await openHost(linkPath);
    const link1 = await recorder.next('the first link');
    first.port.write('ONE\r');
    await link1.received.waitForLength(4, 'the first line');
    await closeHost(first);
    await deadline(link1.closed, 'the first link to end');

    const second = await openHost(linkPath);
    const link2 = await recorder.next('the second link');
    expect(link2.link).not.toBe(link1.link);
    second.port.write('TWO\r');
    link2.link.send(Buffer.from('OK 2\r\n'));
    await link2.received.waitForLength(4, 'the second line');
    await second.received.waitForLength(6, 'the second reply');
    expect(link2.received.text).toBe('TWO\r');
    expect(second.received.text).toBe('OK 2\r\n');
    expect(link1.received.text).toBe('ONE\r');

    // Reopen from the close callback, without waiting for the transport to see the hang-up.
    const reopened = new SerialPort({ path: linkPath, baudRate: 115200, autoOpen: false });
    second.port.close(() => reopened.open());
    const third = await openHost(linkPath, reopened);
    await deadline(link2.closed, 'the second link to end');
    const link3 = await recorder.next('the third link');
    third.port.write('THREE\r');
    await link3.received.waitForLength(6, 'the third line');
    expect(link3.received.text).toBe('THREE\r');
    await closeHost(third);
    await deadline(link3.closed, 'the third link to end');
    expect(recorder.probes.map((probe) => probe.closeCount)).toEqual([1, 1, 1]);
  });

  it('close() removes the link and stops the helper', async () => {
    const recorder = new LinkRecorder();
    transport = await openPty({ linkPath }, recorder.handler);
    const host = await openHost(linkPath);
    await recorder.next();
    await closeHost(host);
    await transport.close();
    expect(fs.existsSync(linkPath)).toBe(false);
    expect(() => fs.lstatSync(linkPath)).toThrow(/ENOENT/);
    expect(await transport.closed).toBeUndefined();
    await transport.close();
  });

  it('makes its link under a hidden name that no pattern for the link matches: discovery never sees a half-made port', async () => {
    // Every name that appears in the directory, in order (inotify keeps the names of entries
    // already renamed away); the rename onto pos0 comes last.
    const seen: string[] = [];
    let sawLink!: () => void;
    const linked = new Promise<void>((resolve) => {
      sawLink = resolve;
    });
    const watcher = fs.watch(dir, (_event, name) => {
      if (name === null) return;
      seen.push(name);
      if (name === 'pos0') sawLink();
    });
    try {
      transport = await openPty({ linkPath }, () => {});
      await deadline(linked, 'pos0 to appear in the watched directory');
    } finally {
      watcher.close();
    }
    const temporary = seen.filter((name) => name !== 'pos0');
    // The step this guards was watched: the link was made under another name first.
    expect(temporary.length).toBeGreaterThan(0);
    for (const source of ['pos*', 'pos?*', 'pos[0-9]*', '*', '*pos0*']) {
      const pattern = compilePattern(path.join(dir, source));
      expect(pattern.matchesPath(linkPath), source).toBe(true);
      expect(
        temporary.filter((name) => pattern.matchesName(name)),
        source,
      ).toEqual([]);
    }
  });

  it('refuses to replace a file that is not a symlink, and replaces a stale symlink', async () => {
    fs.writeFileSync(linkPath, 'precious');
    const error = await openPty({ linkPath }, () => {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('PATH_EXISTS');
    expect((error as Error).message).toContain(linkPath);
    expect(fs.readFileSync(linkPath, 'utf8')).toBe('precious');

    fs.rmSync(linkPath);
    fs.symlinkSync('/dev/pts/does-not-exist', linkPath);
    transport = await openPty({ linkPath }, () => {});
    expect(fs.readlinkSync(linkPath)).toBe(transport.slavePath);
  });

  it('refuses to take over a link to a pty another mock serves (LINK_IN_USE, naming it); its hosts keep it', async () => {
    const first = new LinkRecorder();
    transport = await openPty({ linkPath }, first.handler);
    const slave = transport.slavePath;

    const error = await openPty({ linkPath }, () => {}).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('LINK_IN_USE');
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${linkPath} leads to ${slave}, a pty in use: pid \\d+ \\(\\S*python3 -I -S -c .*pos0\\) of pid ${process.pid} \\(.*\\), serving it\\. Stop that program first, or give --pty another path$`,
      ),
    );
    // Untouched: the link still leads to the first mock, which still serves its hosts.
    expect(fs.readlinkSync(linkPath)).toBe(slave);
    const host = await openHost(linkPath);
    await first.next('the first mock to see the host');
    await closeHost(host);
  });

  it('replaces a link to a pty that is gone (the mock that served it was killed)', async () => {
    transport = await openPty({ linkPath }, () => {});
    const dead = transport.slavePath;
    await transport.close();
    transport = undefined;
    // What a mock killed with SIGKILL leaves: the link, to a pty whose master is closed.
    fs.symlinkSync(dead, linkPath);
    expect(fs.existsSync(dead)).toBe(false);
    transport = await openPty({ linkPath }, () => {});
    expect(fs.readlinkSync(linkPath)).toBe(transport.slavePath);
  });

  it('reports a missing interpreter as PTY_UNAVAILABLE', async () => {
    const error = await openPty({ linkPath, python: 'python3-does-not-exist' }, () => {}).catch(
      (err: unknown) => err,
    );
    expect((error as TransportError).code).toBe('PTY_UNAVAILABLE');
    expect((error as Error).message).toContain('python3-does-not-exist');
    expect(fs.existsSync(linkPath)).toBe(false);
  });

  it('a terminal closing its link hangs the host up, and a new pty appears at the link', async () => {
    const recorder = new LinkRecorder();
    transport = await openPty({ linkPath }, recorder.handler);
    const firstSlave = transport.slavePath;
    const host = await openHost(
      linkPath,
      new SerialPortStream({ binding: hangupSafeLinuxBinding, path: linkPath, baudRate: 115200 }),
    );
    const probe = await recorder.next();
    const closed = closeEvent(host.port);
    probe.link.send(Buffer.from('EVT bye\r\n'));
    await host.received.waitForLength(9, 'the last line before the hang-up');
    probe.link.close();
    expect((await closed)?.disconnected).toBe(true);
    await deadline(probe.closed, 'onClose');
    expect(probe.closeCount).toBe(1);

    // Replugged: the link already leads to a fresh pty when the terminal hears of the hang-up.
    expect(fs.readlinkSync(linkPath)).toBe(transport.slavePath);
    expect(transport.slavePath).not.toBe(firstSlave);
    const replug = await openHost(linkPath);
    const next = await recorder.next('the link after replugging');
    replug.port.write('AGAIN\r');
    await next.received.waitForLength(6, 'a line after replugging');
    await closeHost(replug);
  });

  it('close() with a host attached hangs the host up and ends its link', async () => {
    const recorder = new LinkRecorder();
    transport = await openPty({ linkPath }, recorder.handler);
    const host = await openHost(
      linkPath,
      new SerialPortStream({ binding: hangupSafeLinuxBinding, path: linkPath, baudRate: 115200 }),
    );
    const probe = await recorder.next();
    const closed = closeEvent(host.port);
    await transport.close();
    expect(probe.closeCount).toBe(1);
    expect((await closed)?.disconnected).toBe(true);
    expect(fs.existsSync(linkPath)).toBe(false);
  });
});
