/** Every TSP/1 command of the mock terminal, its values and its error paths. */
import { describe, expect, it } from 'vitest';
import {
  type HostSession,
  MemoryStateStore,
  MockHarness,
  type MockLogger,
  type MockTerminalOptions,
} from '../../src/mock-device/index.js';
import { DIAG_CHECK_ORDER, DIAG_CHECKS, VirtualClock } from '../../src/protocol/index.js';

const PASSWORD = 'Adm1n-Secret';

function setup(options: MockTerminalOptions = {}) {
  const h = new MockHarness(options);
  const host = h.connect();
  return { h, host };
}

function admin(host: HostSession, password = '1234'): void {
  expect(host.send(`LOGIN user=admin password=${password}`)[0]).toMatch(/^OK user=admin/);
  if (password === '1234') expect(host.send(`PASSWD old=1234 new=${PASSWORD}`)).toEqual(['OK']);
}

function adminSetup(options: MockTerminalOptions = {}) {
  const s = setup(options);
  admin(s.host);
  return s;
}

describe('HELLO and STATUS', () => {
  it('uses the configured identity', () => {
    const { host } = setup({ identity: { model: 'X-1', sn: 'SN42', fw: '2.3.4' } });
    expect(host.send('HELLO')[0]).toBe(
      'OK proto=1 model=X-1 sn=SN42 fw=2.3.4 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset',
    );
  });

  it('refuses an identity TSP/1 cannot carry', () => {
    expect(() => new MockHarness({ identity: { sn: 'has space' } })).toThrow(/invalid sn/);
    expect(() => new MockHarness({ identity: { fw: 'x'.repeat(33) } })).toThrow(/invalid fw/);
  });

  it('shows the factory STATUS, in D18 order', () => {
    const { host } = setup();
    expect(host.send('STATUS')).toEqual([
      'OK state=factory login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=admin,01',
    ]);
  });

  it('shows tamper=1 on a tampered terminal', () => {
    const { host } = setup({ tamper: true });
    expect(host.send('STATUS')[0]).toContain(' tamper=1 ');
  });
});

describe('INIT', () => {
  it('binds once, sends EVT state to every connection, and is idempotent', () => {
    const { h, host } = adminSetup();
    const other = h.connect();
    expect(host.send('INIT merchant=123456789012345 terminal=12345678')).toEqual([
      'OK state=initialized changed=1',
      'EVT state state=initialized',
    ]);
    expect(other.lines()).toEqual(['EVT state state=initialized']);
    expect(other.send('STATUS')[0]).toBe(
      'OK state=initialized login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=01 merchant=123456789012345 terminal=12345678 name=""',
    );
    expect(other.send('HELLO')[0]).toContain(' state=initialized ');
    expect(host.send('INIT merchant=123456789012345 terminal=12345678')).toEqual([
      'OK state=initialized changed=0',
    ]);
    expect(host.send('INIT merchant=123456789012345 terminal=12345678 name="Shop 1"')).toEqual([
      'OK state=initialized changed=1',
    ]);
    expect(host.send('INIT merchant=123456789012345 terminal=12345678 name="Shop 1"')).toEqual([
      'OK state=initialized changed=0',
    ]);
    expect(host.send('INIT merchant=123456789012345 terminal=12345678')).toEqual([
      'OK state=initialized changed=0',
    ]);
    expect(host.send('STATUS')[0]).toMatch(/ name="Shop 1"$/);
    expect(host.send('INIT merchant=123456789012345 terminal=87654321')).toEqual([
      'ERR code=409 reason=wrong-state msg="already initialized with other numbers: RESET first"',
    ]);
    expect(other.lines()).toEqual([]);
  });

  it('checks the numbers and the name', () => {
    const { host } = adminSetup();
    const bad = (args: string) => host.send(`INIT ${args}`)[0];
    expect(bad('merchant=12345678901234 terminal=12345678')).toMatch(
      /^ERR code=422 reason=invalid-value key=merchant/,
    );
    expect(bad('merchant=12345678901234a terminal=12345678')).toMatch(/key=merchant/);
    expect(bad('merchant=123456789012345 terminal=123456789')).toMatch(
      /^ERR code=422 reason=invalid-value key=terminal/,
    );
    expect(bad('merchant=123456789012345 terminal=12345678 name=""')).toMatch(/key=name/);
    expect(bad(`merchant=123456789012345 terminal=12345678 name=${'n'.repeat(41)}`)).toMatch(/key=name/);
    expect(bad('merchant=123456789012345 terminal=12345678 name="\\xFF"')).toMatch(/key=name/);
    const utf8 = '\\xC3\\xA9'.repeat(20); // 40 bytes of UTF-8
    expect(bad(`merchant=123456789012345 terminal=12345678 name="${utf8}"`)).toBe(
      'OK state=initialized changed=1',
    );
    expect(host.send('STATUS').at(-1)).toContain(`name="${utf8}"`);
  });
});

describe('GET and SET', () => {
  it('reads the factory settings, unset ones as ""', () => {
    const { host } = adminSetup();
    const values = [
      'net.mode',
      'net.apn',
      'net.wifi.ssid',
      'host.addr',
      'host.port',
      'support.phone',
      'lockout.max',
      'lockout.seconds',
      'settle.account',
    ].map((key) => host.send(`GET key=${key}`)[0]);
    expect(values).toEqual([
      'OK key=net.mode value=eth',
      'OK key=net.apn value=""',
      'OK key=net.wifi.ssid value=""',
      'OK key=host.addr value=""',
      'OK key=host.port value=""',
      'OK key=support.phone value=""',
      'OK key=lockout.max value=5',
      'OK key=lockout.seconds value=300',
      'OK key=settle.account value=""',
    ]);
  });

  it('answers unknown keys with 422 unknown-key, echoing the key cut to 64', () => {
    const { host } = adminSetup();
    expect(host.send('GET key=nope')).toEqual(['ERR code=422 reason=unknown-key key=nope']);
    const long = `k${'x'.repeat(80)}`;
    expect(host.send(`SET key=${long} value=1`)).toEqual([
      `ERR code=422 reason=unknown-key key=${long.slice(0, 64)}`,
    ]);
  });

  it('enforces each rule (422 invalid-value key=<setting>) and stores values as given (D48)', () => {
    const { host } = adminSetup();
    const set = (key: string, value: string) => host.send(`SET key=${key} value=${value}`)[0]!;
    for (const [key, value] of [
      ['net.mode', 'ftp'],
      ['net.apn', `${'a'.repeat(64)}`],
      ['net.wifi.ssid', '""'],
      ['net.wifi.ssid', '"\\xFF"'],
      ['net.wifi.ssid', 'x'.repeat(33)],
      ['host.addr', 'bad_host'],
      ['host.addr', '300.1.1.1'],
      ['host.addr', '10.0.0.010'],
      ['host.port', '0'],
      ['host.port', '65536'],
      ['host.port', '080'],
      ['support.phone', '12'],
      ['support.phone', 'abc'],
      ['lockout.max', '100'],
      ['lockout.seconds', '0'],
      ['lockout.seconds', '86401'],
      ['settle.account', 'short'],
    ]) {
      expect(set(key!, value!), `${key}=${value}`).toMatch(
        new RegExp(`^ERR code=422 reason=invalid-value key=${key} msg=`),
      );
    }
    expect(set('net.mode', 'wifi')).toBe('OK key=net.mode value=wifi');
    expect(set('net.apn', 'internet.example')).toBe('OK key=net.apn value=internet.example');
    expect(set('net.apn', '""')).toBe('OK key=net.apn value=""');
    expect(set('net.wifi.ssid', '"Caf\\xC3\\xA9 Wi-Fi"')).toBe(
      'OK key=net.wifi.ssid value="Caf\\xC3\\xA9 Wi-Fi"',
    );
    expect(set('host.addr', 'acq.example.com')).toBe('OK key=host.addr value=acq.example.com');
    expect(set('host.addr', '10.0.0.1')).toBe('OK key=host.addr value=10.0.0.1');
    expect(set('host.port', '8443')).toBe('OK key=host.port value=8443');
    expect(set('support.phone', '+49-30-1234')).toBe('OK key=support.phone value=+49-30-1234');
    expect(set('lockout.max', '0')).toBe('OK key=lockout.max value=0');
    expect(set('lockout.seconds', '86400')).toBe('OK key=lockout.seconds value=86400');
    expect(host.send('GET key=host.port')[0]).toBe('OK key=host.port value=8443');
  });

  it('masks the settlement account in SET and GET replies', () => {
    const { h, host } = adminSetup();
    expect(host.send('SET key=settle.account value=DE89370400440532013000')).toEqual([
      'OK key=settle.account value="****3000"',
    ]);
    expect(host.send('GET key=settle.account')).toEqual(['OK key=settle.account value="****3000"']);
    expect(h.terminal.snapshot().settings['settle.account']).toBe('DE89370400440532013000');
  });
});

describe('TIME', () => {
  it('reads and sets the clock, which then runs', () => {
    const { h, host } = adminSetup();
    expect(host.send('TIME')).toEqual(['OK utc=2025-01-01T00:00:00Z']);
    expect(host.send('TIME utc=2030-06-15T08:30:00Z')).toEqual(['OK utc=2030-06-15T08:30:00Z']);
    h.advance(61_500);
    expect(host.send('TIME')).toEqual(['OK utc=2030-06-15T08:31:01Z']);
  });

  it('refuses times that are not real instants', () => {
    const { host } = adminSetup();
    for (const utc of [
      '2025-02-30T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01 00:00:00',
      '"2025-01-01T00:00:00"',
    ]) {
      expect(host.send(`TIME utc=${utc}`)[0], utc).toMatch(
        /^ERR code=(422 reason=invalid-value key=utc|400)/,
      );
    }
    expect(host.send('TIME utc=2025-13-01T00:00:00Z')[0]).toMatch(
      /^ERR code=422 reason=invalid-value key=utc/,
    );
  });

  it('is kept by RESET', () => {
    const { h, host } = adminSetup();
    host.send('TIME utc=2031-01-01T00:00:00Z');
    host.send('RESET confirm=PBM0000001');
    admin(host);
    expect(host.send('TIME')).toEqual(['OK utc=2031-01-01T00:00:00Z']);
    expect(host.send('DIAG checks=clock')[0]).toBe('DATA check=clock status=pass ms=0');
    expect(h.terminal.snapshot().clock.set).toBe(true);
  });
});

describe('USER-ADD, USER-SET, USER-DEL, USER-LIST', () => {
  it('adds an operator who must change the password, perms in canonical order', () => {
    const { host } = adminSetup();
    expect(host.send('USER-ADD id=07 name="Anna K" perms=settings,sale password=Anna-Pass1')).toEqual(['OK']);
    expect(host.send('USER-LIST')).toEqual([
      'DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1',
      'DATA id=07 name="Anna K" perms=sale,settings must_change=1',
      'OK count=2',
    ]);
    expect(host.send('USER-ADD id=07 name=Other perms=sale password=Anna-Pass2')).toEqual([
      'ERR code=409 reason=exists msg="operator 07 exists"',
    ]);
    expect(host.send('LOGOUT')).toEqual(['OK']);
    expect(host.send('LOGIN user=07 password=Anna-Pass1')).toEqual(['OK user=07 must_change=1']);
  });

  it('checks id, name, perms and password (422) before exists (409)', () => {
    const { host } = adminSetup();
    const add = (args: string) => host.send(`USER-ADD ${args}`)[0]!;
    for (const id of ['1', '00', '100', 'ab', '"0 1"']) {
      expect(add(`id=${id} name=X perms=sale password=Good-Pass1`), id).toMatch(
        /^ERR code=422 reason=invalid-value key=id/,
      );
    }
    expect(add('id=01 name="" perms=sale password=Good-Pass1')).toMatch(/key=name/);
    expect(add(`id=01 name=${'n'.repeat(33)} perms=sale password=Good-Pass1`)).toMatch(/key=name/);
    for (const perms of ['""', 'sale,sale', 'sale,fly', 'sale,', 'SALE']) {
      expect(add(`id=01 name=X perms=${perms} password=Good-Pass1`), perms).toMatch(/key=perms/);
    }
    expect(add('id=01 name=X perms=sale password=123456')).toMatch(/^ERR code=422 reason=weak-password/);
    expect(add('id=01 name=X perms=sale password=Good-Pass1')).toMatch(/^ERR code=409 reason=exists/);
  });

  it('sets name and perms of an existing operator', () => {
    const { host } = adminSetup();
    expect(host.send('USER-SET id=01')).toEqual(['OK']);
    expect(host.send('USER-SET id=01 name=Front perms=query,sale')).toEqual(['OK']);
    expect(host.send('USER-LIST')[0]).toBe('DATA id=01 name=Front perms=sale,query must_change=1');
    expect(host.send('USER-SET id=02 name=X')).toEqual(['ERR code=422 reason=unknown-user']);
    expect(host.send('USER-SET id=2 name=X')[0]).toMatch(/^ERR code=422 reason=invalid-value key=id/);
    expect(host.send('USER-SET id=01 perms=nope')[0]).toMatch(/key=perms/);
  });

  it('deletes operators, 01 included', () => {
    const { host } = adminSetup();
    expect(host.send('USER-DEL id=01')).toEqual(['OK']);
    expect(host.send('USER-LIST')).toEqual(['OK count=0']);
    expect(host.send('USER-DEL id=01')).toEqual(['ERR code=422 reason=unknown-user']);
    expect(host.send('STATUS')[0]).toContain(' factory_pw=none');
    expect(host.send('USER-ADD id=01 name=New perms=sale password=Good-Pass1')).toEqual(['OK']);
    expect(host.send('STATUS')[0]).toContain(' factory_pw=none');
  });
});

describe('DIAG', () => {
  it('runs every check in the default order; clock and host warn until provisioned', () => {
    const { host } = adminSetup();
    const lines = host.send('DIAG');
    expect(lines.map((l) => /check=(\w+)/.exec(l)?.[1]).slice(0, -1)).toEqual(DIAG_CHECK_ORDER);
    expect(lines).toContain(
      `DATA check=clock status=warn code=not_set hint="${DIAG_CHECKS.clock.codes.not_set.hint}" ms=0`,
    );
    expect(lines.at(-1)).toBe('OK pass=10 warn=2 fail=0');
    host.send('TIME utc=2025-05-05T05:05:05Z');
    host.send('SET key=host.addr value=acq.example.com');
    expect(host.send('DIAG').at(-1)).toBe('OK pass=12 warn=0 fail=0');
  });

  it('answers in the order of checks=, and refuses unknown, repeated or empty names', () => {
    const { host } = adminSetup();
    expect(host.send('DIAG checks=tamper,power')).toEqual([
      'DATA check=tamper status=pass ms=0',
      'DATA check=power status=pass ms=0',
      'OK pass=2 warn=0 fail=0',
    ]);
    expect(host.send('DIAG checks=power,flux')).toEqual(['ERR code=422 reason=unknown-check check=flux']);
    expect(host.send('DIAG checks=power,power')[0]).toMatch(/^ERR code=422 reason=invalid-value key=checks/);
    expect(host.send('DIAG checks=""')[0]).toMatch(/^ERR code=422 reason=invalid-value key=checks/);
    expect(host.send('DIAG checks=power,,msr')[0]).toMatch(/^ERR code=422 reason=invalid-value key=checks/);
  });

  it('D36: empty names first, then the first unknown name (its bytes), only then repeats', () => {
    const { host } = adminSetup();
    expect(host.send('DIAG checks=printer,printer,modem')).toEqual([
      'ERR code=422 reason=unknown-check check=modem',
    ]);
    expect(host.send('DIAG checks="power,power,\\xC3\\xA9,flux"')).toEqual([
      'ERR code=422 reason=unknown-check check="\\xC3\\xA9"',
    ]);
    expect(host.send('DIAG checks=modem,,power')[0]).toMatch(/^ERR code=422 reason=invalid-value key=checks/);
  });

  it('reports configured hardware faults and the tamper latch', () => {
    const { h, host } = adminSetup({ diagFaults: 'printer:paper_out,network:weak_signal', tamper: true });
    const lines = host.send('DIAG checks=printer,network,tamper');
    expect(lines).toEqual([
      `DATA check=printer status=fail code=paper_out hint="${DIAG_CHECKS.printer.codes.paper_out.hint}" ms=0`,
      `DATA check=network status=warn code=weak_signal hint="${DIAG_CHECKS.network.codes.weak_signal.hint}" ms=0`,
      `DATA check=tamper status=fail code=tampered hint="${DIAG_CHECKS.tamper.codes.tampered.hint}" ms=0`,
      'OK pass=0 warn=1 fail=2',
    ]);
    h.terminal.setDiagFault('printer', undefined);
    h.terminal.setDiagFault('clock', 'rtc_fault');
    h.terminal.setTamper(false);
    expect(host.send('DIAG checks=printer,clock,tamper').at(-1)).toBe('OK pass=2 warn=0 fail=1');
    expect(() => h.terminal.setDiagFault('msr', 'paper_out')).toThrow(/unknown code/);
  });

  it('refuses diag faults the protocol does not know', () => {
    expect(() => new MockHarness({ diagFaults: 'printer:jammed' })).toThrow(/unknown code for printer/);
    expect(() => new MockHarness({ diagFaults: 'toaster:burnt' })).toThrow(/unknown check/);
    expect(() => new MockHarness({ diagFaults: 'printer:paper_out,printer:cover_open' })).toThrow(/twice/);
    expect(() => new MockHarness({ diagFaults: 'printer' })).toThrow(/CHECK:CODE/);
  });

  it('takes each check its typical time (scaled), sending DATA as each finishes, with ms measured', () => {
    const { h, host } = adminSetup({ diagTimeScale: 1 });
    expect(host.send('@9 DIAG checks=power,network,clock')).toEqual([]);
    h.advance(19);
    expect(host.lines()).toEqual([]);
    h.advance(1);
    expect(host.lines()).toEqual(['@9 DATA check=power status=pass ms=20']);
    h.advance(400);
    expect(host.lines()).toEqual(['@9 DATA check=network status=pass ms=400']);
    h.advance(5);
    expect(host.lines()).toEqual([
      expect.stringMatching(/^@9 DATA check=clock status=warn code=not_set .* ms=5$/),
      '@9 OK pass=2 warn=1 fail=0',
    ]);
    expect(host.send('@9 DIAG checks=power,network,clock')).toHaveLength(4);
  });

  it('D42: USER-LIST ends when its lines are queued; lines still on the wire keep no one waiting', () => {
    const { h, host } = setup({ baud: 9600 });
    host.send('LOGIN user=admin password=1234');
    host.send(`PASSWD old=1234 new=${PASSWORD}`);
    h.advance(1000);
    expect(host.lines()).toEqual(['OK user=admin must_change=1', 'OK']);
    const other = h.connect();
    host.send('@7 USER-LIST');
    // At 9600 baud the DATA and OK lines take tens of ms to leave; the terminal is not busy.
    expect(host.lines()).toEqual([]);
    expect(other.send('@1 HELLO')).toEqual([]);
    h.advance(1000);
    expect(other.lines()[0]).toMatch(/^@1 OK proto=1 /);
    expect(host.lines()).toEqual([
      '@7 DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1',
      '@7 OK count=1',
    ]);
  });

  it("a timer that fires early (as Node's may, by a millisecond) does not cut a check short", () => {
    // Every timer of this clock falls due 1 ms before it was asked for (a 1 ms one after 1 ms).
    class EarlyClock extends VirtualClock {
      override setTimeout(callback: () => void, ms: number) {
        return super.setTimeout(callback, Math.max(1, ms - 1));
      }
    }
    const h = new MockHarness({ diagTimeScale: 1 }, new EarlyClock());
    const host = h.connect();
    admin(host);
    host.send('@9 DIAG checks=network');
    h.advance(399);
    expect(host.lines()).toEqual([]);
    h.advance(1);
    expect(host.lines()).toEqual(['@9 DATA check=network status=pass ms=400', '@9 OK pass=1 warn=0 fail=0']);
  });

  it('answers 503 busy to requests while a DIAG runs, on any connection', () => {
    const { h, host } = adminSetup({ diagTimeScale: 1 });
    const other = h.connect();
    host.send('DIAG checks=host');
    expect(other.send('@1 HELLO')).toEqual(['@1 ERR code=503 reason=busy']);
    expect(host.send('STATUS')).toEqual(['ERR code=503 reason=busy']);
    h.advance(600);
    expect(host.lines().at(-1)).toBe('OK pass=0 warn=1 fail=0');
    expect(other.send('@1 HELLO')[0]).toMatch(/^@1 OK proto=1/);
  });

  it('stops a DIAG whose connection closes, and frees the terminal', () => {
    const { h, host } = adminSetup({ diagTimeScale: 1 });
    host.send('DIAG');
    host.close();
    const other = h.connect();
    expect(other.send('HELLO')[0]).toMatch(/^OK proto=1/);
    h.advance(5_000);
    expect(h.clock.pending).toBe(0);
  });
});

describe('REBOOT', () => {
  it('answers OK, is down (503 not-ready) for rebootMs, then sends EVT boot to all; logins gone, state kept', () => {
    const { h, host } = adminSetup({ rebootMs: 2000 });
    const other = h.connect();
    other.send(`LOGIN user=admin password=${PASSWORD}`);
    host.send('SET key=net.mode value=wifi');
    expect(host.send('@1 REBOOT')).toEqual(['@1 OK']);
    expect(h.terminal.isDown).toBe(true);
    expect(other.send('@2 STATUS')).toEqual(['@2 ERR code=503 reason=not-ready']);
    // Framing still works while down.
    expect(other.send('@3 NOPE')).toEqual([
      '@3 ERR code=404 reason=unknown-command msg="unknown command NOPE"',
    ]);
    h.advance(1999);
    expect(host.lines()).toEqual([]);
    h.advance(1);
    expect(host.lines()).toEqual(['EVT boot sn=PBM0000001']);
    expect(other.lines()).toEqual(['EVT boot sn=PBM0000001']);
    expect(other.send('STATUS')[0]).toContain(' login=none ');
    expect(host.send('GET key=net.mode')).toEqual(['ERR code=401 reason=auth-required']);
    host.send(`LOGIN user=admin password=${PASSWORD}`);
    expect(host.send('GET key=net.mode')).toEqual(['OK key=net.mode value=wifi']);
  });

  it('D49: keeps the clock, whether it was ever set, the tamper flag and the lockout count', () => {
    const { h, host } = adminSetup({ tamper: true });
    host.send('TIME utc=2025-03-14T09:00:00Z');
    host.send('LOGIN user=admin password=wrong-1');
    expect(host.send('REBOOT')).toEqual(['OK']);
    h.advance(60_000);
    expect(host.lines()).toEqual(['EVT boot sn=PBM0000001']);
    expect(host.send('STATUS')[0]).toMatch(/ attempts_left=4 tamper=1 /);
    host.send(`LOGIN user=admin password=${PASSWORD}`);
    expect(host.send('TIME')).toEqual(['OK utc=2025-03-14T09:01:00Z']);
    expect(host.send('DIAG checks=clock,tamper')).toEqual([
      'DATA check=clock status=pass ms=0',
      expect.stringMatching(/^DATA check=tamper status=fail code=tampered /),
      'OK pass=1 warn=0 fail=1',
    ]);
  });
});

describe('RESET', () => {
  it('needs confirm=<sn>', () => {
    const { host } = adminSetup();
    expect(host.send('RESET confirm=PBM0000002')).toEqual([
      'ERR code=422 reason=invalid-value key=confirm msg="confirm must be the serial number"',
    ]);
  });

  it('restores factory state except clock and hardware, ends every login, sends EVT state', () => {
    const { h, host } = adminSetup({ diagFaults: 'msr:read_error' });
    const other = h.connect();
    other.send(`LOGIN user=admin password=${PASSWORD}`);
    host.send('INIT merchant=123456789012345 terminal=12345678 name=Shop');
    host.send('SET key=net.mode value=gprs');
    host.send('USER-ADD id=09 name=Z perms=sale password=Good-Pass1');
    host.send('TIME utc=2029-01-01T00:00:00Z');
    other.lines();
    expect(host.send('RESET confirm=PBM0000001')).toEqual(['OK', 'EVT state state=factory']);
    expect(other.lines()).toEqual(['EVT state state=factory']);
    expect(other.send('STATUS')).toEqual([
      'OK state=factory login=none must_change=0 locked=0 attempts_left=5 tamper=0 factory_pw=admin,01',
    ]);
    admin(host);
    expect(host.send('GET key=net.mode')).toEqual(['OK key=net.mode value=eth']);
    expect(host.send('USER-LIST')).toEqual([
      'DATA id=01 name="Initial account" perms=sale,refund,query,report,settings must_change=1',
      'OK count=1',
    ]);
    expect(host.send('TIME')).toEqual(['OK utc=2029-01-01T00:00:00Z']);
    expect(host.send('DIAG checks=msr')[0]).toMatch(/status=fail code=read_error/);
  });
});

describe('internal errors', () => {
  it('answer 500 internal (stored for replay) and are logged; the terminal keeps working', () => {
    const store = new MemoryStateStore();
    const errors: string[] = [];
    const logger: MockLogger = {
      debug() {},
      info() {},
      warn() {},
      error(_fields, message) {
        errors.push(message);
      },
    };
    const { host } = setup({ store, logger });
    admin(host);
    const save = store.save.bind(store);
    store.save = () => {
      throw new Error('flash worn out');
    };
    expect(host.send('@4 SET key=net.mode value=wifi')).toEqual(['@4 ERR code=500 reason=internal']);
    expect(errors).toEqual(['internal error in a command']);
    store.save = save;
    expect(host.send('@4 SET key=net.mode value=wifi')).toEqual(['@4 ERR code=500 reason=internal']);
    expect(host.send('@5 SET key=net.mode value=wifi')).toEqual(['@5 OK key=net.mode value=wifi']);
  });
});
