/**
 * The daemon's config file: defaults, JSON and YAML, the allow-list forms, and errors that name
 * the file and the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CONFIG_DEFAULTS,
  defaultConfigPath,
  loadDaemonConfig,
  parseDaemonConfig,
} from '../../src/daemon/config/index.js';
import { createDaemonPorts } from '../../src/daemon/port-manager/create.js';
import type { ManagedTerminal } from '../../src/daemon/port-manager/manager.js';
import { isPosbridgeError, type PosbridgeError } from '../../src/host/errors.js';
import { createPortRegistry } from '../../src/host/ports/index.js';
import { DEFAULT_TERMINAL_IDS } from '../../src/host/ports/list.js';
import { silentLogger } from './daemon-wire.helper.js';

const FILE = '/home/tech/.config/posbridge/daemon.yaml';
const host = () => 'bench-3';

function problem(text: string, file = FILE): PosbridgeError {
  try {
    parseDaemonConfig(text, file, host);
  } catch (error) {
    if (isPosbridgeError(error)) return error;
    throw error;
  }
  throw new Error('expected a config error');
}

describe('daemon config: defaults and forms', () => {
  it('an empty file is every default; the station is the host name', () => {
    const config = parseDaemonConfig('', FILE, host);
    expect(config).toEqual({
      station: 'bench-3',
      allow: DEFAULT_TERMINAL_IDS.map((id) => ({ ...id })),
      ports: [],
      watch: ['/dev'],
      baud: 115200,
      timeouts: { requestMs: 2000, identifyMs: 5000, heartbeatMs: 5000 },
    });
    expect(CONFIG_DEFAULTS.timeouts.heartbeatMs).toBe(5000);
  });

  it('reads every field from YAML', () => {
    const config = parseDaemonConfig(
      [
        'station: counter-2',
        'allow:',
        '  - defaults',
        '  - "0403:6015"',
        '  - 0x10C4',
        '  - 0403',
        '  - { vendorId: 0x0ca6, productId: 0001 }',
        '  - { vendorId: "1a86", productId: "7523", label: CH340 cable of the Move/5000 }',
        'ports:',
        '  - tcp://10.0.0.7:4001',
        '  - rfc2217://10.0.0.8:4001?ign_set_control',
        '  - /dev/serial/by-id/usb-FTDI_FT231X_DN04ABCD-if00-port0',
        '  - /run/pos/pos[0-9]',
        '  - mock://demo',
        'watch: [/dev, /run/pos]',
        'baud: 9600',
        'timeouts: { requestMs: 1500, identifyMs: 2500, heartbeatMs: 0 }',
        'audit: /var/lib/posbridge/audit.sqlite',
      ].join('\n'),
      FILE,
      host,
    );
    expect(config.station).toBe('counter-2');
    expect(config.allow.slice(DEFAULT_TERMINAL_IDS.length)).toEqual([
      { vendorId: '0403', productId: '6015', label: 'USB 0403:6015' },
      { vendorId: '10c4', label: 'USB 10c4' },
      { vendorId: '0403', label: 'USB 0403' },
      { vendorId: '0ca6', productId: '0001', label: 'USB 0ca6:0001' },
      { vendorId: '1a86', productId: '7523', label: 'CH340 cable of the Move/5000' },
    ]);
    expect(config.ports).toHaveLength(5);
    expect(config.watch).toEqual(['/dev', '/run/pos']);
    expect(config.baud).toBe(9600);
    expect(config.timeouts).toEqual({ requestMs: 1500, identifyMs: 2500, heartbeatMs: 0 });
    expect(config.audit).toBe('/var/lib/posbridge/audit.sqlite');
  });

  it('a relative audit path is relative to the config file, not to where the daemon was started', () => {
    expect(parseDaemonConfig('audit: trail/audit.sqlite3', FILE, host).audit).toBe(
      '/home/tech/.config/posbridge/trail/audit.sqlite3',
    );
    expect(parseDaemonConfig('audit: ../shared/a.db', '/etc/posbridge/daemon.yaml', host).audit).toBe(
      '/etc/shared/a.db',
    );
  });

  it('reads JSON when the name ends in .json; allow replaces the defaults unless it lists "defaults"', () => {
    const config = parseDaemonConfig(
      JSON.stringify({ allow: ['2fb8', '2fb8'], timeouts: { heartbeatMs: 10000 } }),
      '/etc/pb.json',
      host,
    );
    expect(config.allow).toEqual([{ vendorId: '2fb8', label: 'USB 2fb8' }]);
    expect(config.timeouts).toEqual({ requestMs: 2000, identifyMs: 5000, heartbeatMs: 10000 });
  });

  it('the default location follows XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x/cfg' })).toBe('/x/cfg/posbridge/daemon.yaml');
    expect(defaultConfigPath({ HOME: '/home/ana' })).toBe('/home/ana/.config/posbridge/daemon.yaml');
    expect(defaultConfigPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/ana' })).toBe(
      '/home/ana/.config/posbridge/daemon.yaml',
    );
  });
});

describe('daemon config: files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'posbridge-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an absent file at the default location means defaults', async () => {
    const loaded = await loadDaemonConfig({ env: { XDG_CONFIG_HOME: dir }, hostname: host });
    expect(loaded).toMatchObject({ found: false, path: join(dir, 'posbridge/daemon.yaml') });
    expect(loaded.config.watch).toEqual(['/dev']);
  });

  it('the default file is read when present', async () => {
    await (await import('node:fs/promises')).mkdir(join(dir, 'posbridge'));
    await writeFile(join(dir, 'posbridge/daemon.yaml'), 'station: shop-9\n');
    const loaded = await loadDaemonConfig({ env: { XDG_CONFIG_HOME: dir }, hostname: host });
    expect(loaded).toMatchObject({ found: true, config: { station: 'shop-9' } });
  });

  it('audit is a path, or { file, witness }: the witness goes with its trail (issue 9 item 7)', () => {
    expect(parseDaemonConfig('audit: /var/lib/pb/audit.sqlite3', FILE, host)).toMatchObject({
      audit: '/var/lib/pb/audit.sqlite3',
    });
    const both = parseDaemonConfig(
      'audit:\n  file: /var/lib/pb/audit.sqlite3\n  witness: /mnt/usb/pb-heads\n',
      FILE,
      host,
    );
    expect(both.audit).toBe('/var/lib/pb/audit.sqlite3');
    expect(both.auditWitness).toBe('/mnt/usb/pb-heads');
    const witnessOnly = parseDaemonConfig(
      '{"audit": {"witness": "/mnt/usb/pb-heads"}}',
      '/etc/pb.json',
      host,
    );
    expect(witnessOnly.audit).toBeUndefined();
    expect(witnessOnly.auditWitness).toBe('/mnt/usb/pb-heads');
  });

  it('a file named with --config must exist', async () => {
    const path = join(dir, 'nope.yaml');
    const error = await loadDaemonConfig({ path }).catch((e) => e);
    expect(error).toMatchObject({ code: 'USAGE' });
    expect(error.message).toContain(path);
    expect(error.message).toContain('ENOENT');
  });
});

describe('daemon config: errors name the file and the field', () => {
  it.each([
    ['timeouts: { heartbeatMs: -5 }', 'timeouts.heartbeatMs', /0 \(off\) or a whole number of milliseconds/],
    ['timeouts: { requestMs: 2.5 }', 'timeouts.requestMs', /whole number of milliseconds/],
    ['timeouts: { identifyMs: "fast" }', 'timeouts.identifyMs', /whole number/],
    ['timeouts: { heartbeat: 100 }', 'timeouts.heartbeat', /unknown field \(did you mean heartbeatMs\?\)/],
    ['timeout: { requestMs: 100 }', 'timeout', /unknown field \(did you mean timeouts\?\)/],
    ['allow: ["0b00", "gps"]', 'allow[1]', /"VVVV".*not "gps"/],
    ['allow: [{ vendorId: 12345 }]', 'allow[0].vendorId', /4 hex digits/],
    ['allow: [{ vendorId: true }]', 'allow[0].vendorId', /4 hex digits/],
    ['allow: [{ vendorId: "0b00", model: x }]', 'allow[0].model', /unknown field/],
    ['allow: "0b00"', 'allow', /must be a list/],
    ['ports: [ttyUSB0]', 'ports[0]', /absolute device path/],
    ['ports: ["/dev/*/x"]', 'ports[0]', /only in the last part/],
    ['ports: ["tcp://10.0.0.7"]', 'ports[0]', /tcp:\/\/HOST:PORT/],
    ['ports: ["rfc2217://10.0.0.7"]', 'ports[0]', /not a rfc2217:\/\/ port name: rfc2217:\/\/10\.0\.0\.7/],
    ['ports: ["rfc2217://10.0.0.7:4001?baud=9600"]', 'ports[0]', /unknown rfc2217:\/\/ option "baud"/],
    ['ports: ["telnet://h:23?poll_modem"]', 'ports[0]', /RFC 2217 option: use rfc2217:\/\//],
    ['watch: [dev]', 'watch[0]', /absolute directory/],
    ['station: ""', 'station', /must not be empty/],
    ['baud: 0', 'baud', /positive whole number/],
    ['socket: /tmp/x.sock', 'socket', /unknown field/],
    ['audit: { witness: heads.txt }', 'audit.witness', /absolute file path/],
    ['audit: { witnes: /mnt/heads }', 'audit.witnes', /unknown field \(did you mean witness\?\)/],
    ['audit: { file: "" }', 'audit.file', /must not be empty/],
    ['audit: 5', 'audit', /file path, or \{ file, witness \}/],
    ['audit: ""', 'audit', /must not be empty/],
    [
      'timeouts: { namedIdleMs: 500 }',
      'timeouts.namedIdleMs',
      /0 \(never\) or a whole number of milliseconds from 1000/,
    ],
    ['timeouts: { namedIdle: 500 }', 'timeouts.namedIdle', /unknown field \(did you mean namedIdleMs\?\)/],
    ['maxNamedPorts: 0', 'maxNamedPorts', /whole number from 1 to 4096/],
    ['maxNamedPorts: 2.5', 'maxNamedPorts', /whole number from 1 to 4096/],
    [
      'http: { listen: "0.0.0.0:8390" }',
      'http.listen',
      /0\.0\.0\.0 is not a loopback address.*unless http\.allowRemote is true/,
    ],
    ['http: { listen: 192.168.1.5:8390, allowRemote: false }', 'http.listen', /not a loopback address/],
    ['http: { listen: "127.0.0.1" }', 'http.listen', /"127\.0\.0\.1" is not HOST:PORT, e\.g\./],
    ['http: { listen: "127.0.0.1:70000" }', 'http.listen', /not HOST:PORT/],
    ['http: { listen: "bench.local:8390" }', 'http.listen', /bench\.local is not an IP address/],
    ['http: { listen: 8390 }', 'http.listen', /must be HOST:PORT as text/],
    ['http: { allowRemote: true }', 'http.listen', /must be HOST:PORT/],
    ['http: { listen: "127.0.0.1:8390", allowRemote: yes }', 'http.allowRemote', /true or false/],
    ['http: { listen: "127.0.0.1:8390", remote: true }', 'http.remote', /unknown field/],
    ['http: { lsiten: "127.0.0.1:8390" }', 'http.lsiten', /unknown field/],
    ['http: "127.0.0.1:8390"', 'http', /must be \{ listen: "HOST:PORT", allowRemote: false \}/],
    ['dashboard: { listen: "127.0.0.1:8390" }', 'dashboard', /unknown field/],
  ])('%s -> %s', (text, field, message) => {
    const error = problem(text);
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain(FILE);
    expect(error.details.problems).toEqual(
      expect.arrayContaining([{ field, message: expect.stringMatching(message) }]),
    );
    expect(error.message).toContain(`${field}: `);
    expect(error.hint).toMatch(/docs\/daemon.md/);
  });

  it('lists every problem at once', () => {
    const error = problem('baud: -1\nwatch: [x]\nextra: 1');
    expect((error.details.problems as Array<{ field: string }>).map((p) => p.field).sort()).toEqual([
      'baud',
      'extra',
      'watch[0]',
    ]);
  });

  it('syntax errors name the file, the format and the line', () => {
    expect(problem('allow: [0b00\nports: x').message).toMatch(
      new RegExp(`^config file ${FILE} is not valid YAML: .*line \\d+`),
    );
    expect(problem('station: a\nstation: b').message).toMatch(/Map keys must be unique/);
    expect(problem('{"station": ', '/etc/pb.json').message).toMatch(
      /^config file \/etc\/pb.json is not valid JSON/,
    );
    expect(problem('- a\n- b').message).toMatch(/\(top level\): must be a mapping/);
  });
});

describe('daemon config: http, the dashboard (issue 14)', () => {
  it('absent: no dashboard; listen is HOST:PORT, loopback unless allowRemote', () => {
    expect(parseDaemonConfig('', FILE, host).http).toBeUndefined();
    const http = (text: string) => parseDaemonConfig(text, FILE, host).http;
    expect(http('http: { listen: 127.0.0.1:8390 }')).toEqual({
      listen: { host: '127.0.0.1', port: 8390 },
      allowRemote: false,
    });
    expect(http('http:\n  listen: "[::1]:0"')?.listen).toEqual({ host: '::1', port: 0 });
    expect(http('http: { listen: "localhost:0" }')?.listen).toEqual({ host: 'localhost', port: 0 });
    expect(http('http: { listen: "0.0.0.0:8390", allowRemote: true }')).toEqual({
      listen: { host: '0.0.0.0', port: 8390 },
      allowRemote: true,
    });
    expect(
      parseDaemonConfig('{"http": {"listen": "127.0.0.2:0"}}', '/etc/pb.json', host).http?.listen,
    ).toEqual({
      host: '127.0.0.2',
      port: 0,
    });
  });
});

describe('daemon config: ports named on demand (issue 9, item 8)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads timeouts.namedIdleMs and maxNamedPorts; absent, the port manager defaults apply', () => {
    const config = parseDaemonConfig('timeouts: { namedIdleMs: 300000 }\nmaxNamedPorts: 8\n', FILE, host);
    expect(config.timeouts.namedIdleMs).toBe(300_000);
    expect(config.maxNamedPorts).toBe(8);
    expect(parseDaemonConfig('timeouts: { namedIdleMs: 0 }', FILE, host).timeouts.namedIdleMs).toBe(0);
    const defaults = parseDaemonConfig('', FILE, host);
    expect(defaults.timeouts.namedIdleMs).toBeUndefined();
    expect(defaults.maxNamedPorts).toBeUndefined();
  });

  it("the daemon's port manager gets them: a named port is forgotten after namedIdleMs, a name past maxNamedPorts refused", async () => {
    vi.useFakeTimers();
    const opened: string[] = [];
    const open = async (port: string): Promise<ManagedTerminal> => {
      opened.push(port);
      const fake = {
        hello: async () => ({ proto: 1, model: 'M', sn: port, fw: '1', state: 'factory', caps: [] }),
        status: async () => ({
          state: 'factory',
          login: 'none',
          mustChange: false,
          locked: false,
          attemptsLeft: 5,
          tamper: false,
          factoryPw: ['admin', '01'],
        }),
        onClose: () => () => {},
        close: async () => {},
      };
      return fake as unknown as ManagedTerminal;
    };
    const config = parseDaemonConfig(
      'timeouts: { namedIdleMs: 1000, heartbeatMs: 0 }\nmaxNamedPorts: 1\nwatch: []',
      FILE,
      host,
    );
    const { manager } = createDaemonPorts({
      config,
      registry: createPortRegistry(),
      logger: silentLogger,
      lister: async () => [],
      open,
    });
    await manager.start();
    const lease = await manager.lease('tcp://10.0.0.7:4001');
    await expect(manager.lease('tcp://10.0.0.8:4001')).rejects.toMatchObject({ code: 'PORT_BUSY' });
    await lease.close();
    await vi.advanceTimersByTimeAsync(999);
    expect(manager.list().map((t) => t.port)).toEqual(['tcp://10.0.0.7:4001']);
    await vi.advanceTimersByTimeAsync(1);
    expect(manager.list()).toEqual([]);
    expect(opened).toEqual(['tcp://10.0.0.7:4001']);
    await manager.close();
  });
});
