/**
 * Issue 9, items 3 and 4, at the unit level: the output files (output-files.ts) are checked and
 * created without following a link; a trace that cannot be written stops with a warning, never
 * the run; one operation's link options (host/link-options.ts) hold on a shared driver for that
 * operation only, and a line rate the port is not open at is refused before a byte is sent;
 * relative paths are the user's (user-paths.ts).
 */
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkOutputPath,
  defaultCredentialsPath,
  openForAppend,
  openTraceFile,
  prepareCredentialsFile,
  writeFileAtomically,
} from '../../src/cli/output-files.js';
import { resolveCommandPaths, resolvePortName } from '../../src/cli/user-paths.js';
import { TerminalDriver } from '../../src/host/driver.js';
import { isPosbridgeError, PosbridgeError } from '../../src/host/errors.js';
import { Session } from '../../src/host/session.js';
import { createMemoryTrace, createWriterTrace } from '../../src/host/trace.js';
import { encodeOk } from '../../src/protocol/index.js';
import { silentLogger, Wire } from './daemon-wire.helper.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-out-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** The USAGE error `body` throws (exit 2), for its message. */
async function refused(body: Promise<unknown>): Promise<PosbridgeError> {
  const error = await body.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PosbridgeError);
  expect((error as PosbridgeError).code).toBe('USAGE');
  return error as PosbridgeError;
}

/** A file even root cannot write (root passes permission bits, not /proc/sys's own checks). */
const UNWRITABLE_FILE = process.getuid?.() === 0 ? '/proc/sys/kernel/osrelease' : undefined;

describe('checkOutputPath: every output checked before the first byte', () => {
  it('refuses a symlink, even one pointing at a writable file, and names it', async () => {
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'keep me\n');
    const link = join(dir, 'trace.log');
    symlinkSync(target, link);
    const error = await refused(checkOutputPath(link, '--trace'));
    expect(error.message).toBe(
      `cannot write --trace ${link}: it is a symbolic link; posbridge never writes through one (it could overwrite the file it points to)`,
    );
    expect(error.hint).toContain('nothing was sent to the terminal');
  });

  it('refuses a dangling symlink (creating through it would create the file it names)', async () => {
    const link = join(dir, 'junit.xml');
    symlinkSync(join(dir, 'nowhere', 'x.xml'), link);
    expect((await refused(checkOutputPath(link, '--junit'))).message).toContain('it is a symbolic link');
  });

  it('refuses a directory, a missing directory, and a directory it cannot create files in', async () => {
    expect((await refused(checkOutputPath(dir, '--junit'))).message).toBe(
      `cannot write --junit ${dir}: it is a directory`,
    );
    const missing = join(dir, 'no-such-dir', 'out.xml');
    expect((await refused(checkOutputPath(missing, '--junit'))).message).toBe(
      `cannot write --junit ${missing}: its directory ${join(dir, 'no-such-dir')} does not exist`,
    );
    expect((await refused(checkOutputPath('/proc/sys/new-file', '--trace'))).message).toMatch(
      /^cannot write --trace \/proc\/sys\/new-file: files cannot be created in \/proc\/sys \(E[A-Z]+\)$/,
    );
  });

  it.runIf(UNWRITABLE_FILE !== undefined)('refuses a file it cannot write', async () => {
    expect((await refused(checkOutputPath(UNWRITABLE_FILE!, '--trace'))).message).toMatch(
      /: it cannot be written \(EACCES\)$/,
    );
  });

  it('resolves a relative path against the directory given, and accepts /dev/null for a trace', async () => {
    expect(await checkOutputPath('t.log', '--trace', { cwd: dir })).toBe(join(dir, 't.log'));
    expect(await checkOutputPath('/dev/null', '--trace')).toBe('/dev/null');
  });

  it('a secret file must be a regular file with one name: a hard link and a device are refused', async () => {
    const file = join(dir, 'passwords.txt');
    writeFileSync(file, '');
    linkSync(file, join(dir, 'other-name.txt'));
    expect((await refused(checkOutputPath(file, '--credentials-out', { secret: true }))).message).toContain(
      'it has 2 names (hard links) and would hold passwords',
    );
    expect(
      (await refused(checkOutputPath('/dev/null', '--credentials-out', { secret: true }))).message,
    ).toContain('it is not a regular file');
  });
});

describe('openForAppend and writeFileAtomically: no link followed, secrets 0600', () => {
  it('a link planted after the check fails the open (O_NOFOLLOW), and its target is untouched', async () => {
    const path = join(dir, 'operator-passwords.txt');
    expect(await checkOutputPath(path, '--credentials-out', { secret: true })).toBe(path);
    const target = join(dir, 'victim.txt');
    writeFileSync(target, 'original\n');
    symlinkSync(target, path); // the race: between the check and the write
    const error = await refused(openForAppend(path, '--credentials-out', { secret: true }));
    expect(error.message).toContain('it is a symbolic link');
    expect(readFileSync(target, 'utf8')).toBe('original\n');
  });

  it('creates a secret file 0600 and tightens an existing one to 0600', async () => {
    const fresh = join(dir, 'new.txt');
    const handle = await openForAppend(fresh, '--credentials-out', { secret: true });
    await handle.close();
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    const loose = join(dir, 'loose.txt');
    writeFileSync(loose, 'x\n', { mode: 0o644 });
    chmodSync(loose, 0o644);
    const again = await openForAppend(loose, '--credentials-out', { secret: true });
    await again.write('y\n');
    await again.close();
    expect(statSync(loose).mode & 0o777).toBe(0o600);
    expect(readFileSync(loose, 'utf8')).toBe('x\ny\n');
  });

  it('writes a report in one step, never through a symlink, leaving no temporary file', async () => {
    const report = join(dir, 'station.xml');
    await writeFileAtomically(report, '<a/>\n', '--junit');
    expect(readFileSync(report, 'utf8')).toBe('<a/>\n');
    const target = join(dir, 'victim.xml');
    writeFileSync(target, 'original\n');
    const link = join(dir, 'linked.xml');
    symlinkSync(target, link);
    await refused(writeFileAtomically(link, '<b/>\n', '--junit'));
    expect(readFileSync(target, 'utf8')).toBe('original\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['linked.xml', 'station.xml', 'victim.xml']);
  });

  it('the operator passwords default to the state directory, created 0700, never the cwd', async () => {
    const env = { XDG_STATE_HOME: join(dir, 'state'), HOME: join(dir, 'home') };
    expect(defaultCredentialsPath(env)).toBe(join(dir, 'state', 'posbridge', 'operator-passwords.txt'));
    expect(defaultCredentialsPath({ HOME: join(dir, 'home') })).toBe(
      join(dir, 'home', '.local', 'state', 'posbridge', 'operator-passwords.txt'),
    );
    expect(defaultCredentialsPath({ XDG_STATE_HOME: 'relative', HOME: '/h' })).toBe(
      '/h/.local/state/posbridge/operator-passwords.txt',
    );
    const path = await prepareCredentialsFile(undefined, env);
    expect(path).toBe(join(dir, 'state', 'posbridge', 'operator-passwords.txt'));
    expect(statSync(join(dir, 'state', 'posbridge')).mode & 0o777).toBe(0o700);
    expect(existsSync(path)).toBe(false); // created only when a password is generated
    mkdirSync(join(dir, 'work'));
    expect(await prepareCredentialsFile('mine.txt', env, join(dir, 'work'))).toBe(
      join(dir, 'work', 'mine.txt'),
    );
  });
});

describe('the trace during a run', () => {
  it('a failed write (disk full) is one warning, and the run goes on', () => {
    const failures: Error[] = [];
    let writes = 0;
    const trace = createWriterTrace(
      () => {
        writes++;
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
      { onFailure: (error) => failures.push(error) },
    );
    const entry = { at: new Date(0), direction: '>' as const, text: 'HELLO' };
    expect(() => trace.record(entry)).not.toThrow();
    expect(() => trace.record(entry)).not.toThrow();
    expect(writes).toBe(1);
    expect(failures.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
  });

  it('--trace /dev/full: the warning names the file and says the run goes on', async () => {
    const warnings: string[] = [];
    const trace = await openTraceFile('/dev/full', (text) => warnings.push(text));
    trace.record({ at: new Date(0), direction: '>', text: 'HELLO' });
    trace.record({ at: new Date(0), direction: '<', text: 'OK' });
    await trace.close();
    expect(warnings).toEqual([
      'warning: cannot write the trace file /dev/full (ENOSPC): tracing stopped there; the run goes on\n',
    ]);
  });

  it('creates the trace 0600 and appends', async () => {
    const path = join(dir, 'wire.log');
    const trace = await openTraceFile(path, () => undefined);
    trace.record({ at: new Date(0), direction: '>', text: 'HELLO' });
    await trace.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('1970-01-01T00:00:00.000Z > HELLO\n');
  });
});

describe('one operation on a shared link (TerminalDriver.useLink)', () => {
  const hello = (id: string | undefined) =>
    encodeOk({ id, crc: true }, [
      ['proto', 1],
      ['model', 'PB-100'],
      ['sn', 'PB1'],
      ['fw', '1.0'],
      ['state', 'factory'],
      ['caps', 'crc'],
    ]);

  function open(lineRate?: number) {
    const wire = new Wire();
    const session = new Session(wire.transport, { logger: silentLogger, random: () => 0, timeoutMs: 2000 });
    const driver = new TerminalDriver(session, { lineRate });
    return { wire, driver };
  }

  it('a line rate other than the one the port is open at is refused before a byte is sent', async () => {
    const { wire, driver } = open(115_200);
    let error: unknown;
    try {
      driver.useLink({ baudRate: 9600 });
    } catch (e) {
      error = e;
    }
    expect(isPosbridgeError(error, 'USAGE')).toBe(true);
    expect((error as PosbridgeError).message).toBe(
      'test://terminal is held open at 115200 baud; --baud 9600 cannot apply to it without reopening it under its other users',
    );
    expect(wire.received).toEqual([]);
    // The same rate, or a port without one (tcp://, mock://), is fine.
    driver.useLink({ baudRate: 115_200 })();
    open(undefined).driver.useLink({ baudRate: 9600 })();
  });

  it("the operation's trace gets its lines, and only while it holds the link", async () => {
    const { wire, driver } = open();
    wire.script = (r) => [hello(r.request?.id)];
    const trace = createMemoryTrace();
    const undo = driver.useLink({ trace });
    await driver.hello();
    undo();
    await driver.hello(); // the next holder (a heartbeat): not in this trace
    expect(trace.records.map((r) => `${r.direction} ${r.text.split(' ')[1]}`)).toEqual(['> HELLO', '< OK']);
  });

  it('the reply timeout of the operation holds, then the port goes back to its own', async () => {
    vi.useFakeTimers();
    const { wire, driver } = open();
    wire.script = () => []; // a terminal that never answers
    const undo = driver.useLink({ timeoutMs: 50 });
    const first = driver.hello().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(49);
    expect(wire.received).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // the operation's 50 ms: sent again
    expect(wire.received).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100 + 200 + 200); // doubled, capped at 4 x 50 (protocol.md §18)
    const error = (await first) as PosbridgeError;
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('no reply within 200 ms, sent 4 time(s)');
    undo();
    const second = driver.hello().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1999);
    expect(wire.received).toHaveLength(4 + 1); // its own 2000 ms again
    await vi.advanceTimersByTimeAsync(1);
    expect(wire.received).toHaveLength(4 + 2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(((await second) as PosbridgeError).code).toBe('TIMEOUT');
  });
});

describe('paths mean what the user typed', () => {
  it('a relative device path becomes absolute against the user directory; URLs stay as typed', () => {
    expect(resolvePortName('./pty0', '/home/ana/bench')).toBe('/home/ana/bench/pty0');
    expect(resolvePortName('links/pos', '/w')).toBe('/w/links/pos');
    expect(resolvePortName('/dev/ttyUSB0', '/w')).toBe('/dev/ttyUSB0');
    expect(resolvePortName('tcp://10.0.0.7:4001', '/w')).toBe('tcp://10.0.0.7:4001');
    expect(resolvePortName('mock://demo?sn=A', '/w')).toBe('mock://demo?sn=A');
  });

  it('every path option of the command about to run, --port repeated or not', async () => {
    const seen: Record<string, unknown>[] = [];
    const program = new Command()
      .exitOverride()
      .hook('preAction', (_p, command) => resolveCommandPaths(command, '/w'));
    program
      .command('station')
      .option('--port <p>', '', (v: string, prev: string[] = []) => [...prev, v])
      .option('--manifest <f>')
      .option('--junit <f>')
      .option('--trace <f>')
      .option('--credentials-out <f>')
      .action((options: Record<string, unknown>) => void seen.push(options));
    await program.parseAsync(
      [
        'station',
        '--port',
        'p0',
        '--port',
        'tcp://h:1',
        '--manifest',
        'rows.csv',
        '--junit',
        '/abs/j.xml',
        '--trace',
        '../t.log',
        '--credentials-out',
        'c.txt',
      ],
      { from: 'user' },
    );
    expect(seen).toEqual([
      {
        port: ['/w/p0', 'tcp://h:1'],
        manifest: '/w/rows.csv',
        junit: '/abs/j.xml',
        trace: '/t.log',
        credentialsOut: '/w/c.txt',
      },
    ]);
  });
});
