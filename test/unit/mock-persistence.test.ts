/** --state FILE: the terminal's flash, loaded at start, saved atomically after every change. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileStateStore,
  MockConfigError,
  MockHarness,
  type MockTerminalOptions,
} from '../../src/mock-device/index.js';
import { VirtualClock } from '../../src/protocol/index.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posbridge-mock-state-'));
  file = path.join(dir, 'terminal.json');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(options: MockTerminalOptions = {}, clock = new VirtualClock()) {
  const h = new MockHarness({ store: new FileStateStore(file), ...options }, clock);
  return { h, host: h.connect() };
}

describe('mock terminal: state file', () => {
  it('is written at start, mode 0600, without a temp file left behind', () => {
    start();
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['terminal.json']);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('1234');
    expect(JSON.parse(text)).toMatchObject({ version: 1, identity: { sn: 'PBM0000001' }, binding: null });
  });

  it('a restarted mock is the same terminal', () => {
    const clock = new VirtualClock();
    const first = start({}, clock);
    first.host.send('LOGIN user=admin password=1234');
    first.host.send('PASSWD old=1234 new=Adm1n-Secret');
    first.host.send('INIT merchant=123456789012345 terminal=12345678 name="Caf\\xC3\\xA9"');
    first.host.send('SET key=settle.account value=NL91ABNA0417164300');
    first.host.send('USER-ADD id=05 name=Eve perms=sale,query password=Eve-Pass-1');
    first.host.send('TIME utc=2030-01-01T00:00:00Z');
    for (let i = 0; i < 2; i++) first.host.send('LOGIN user=05 password=wrong');
    const before = first.h.terminal.snapshot();
    first.h.terminal.close();
    expect(first.host.closed).toBe(true);

    const second = start({}, clock);
    expect(second.h.terminal.snapshot()).toEqual(before);
    expect(second.host.send('STATUS')).toEqual([
      'OK state=initialized login=none must_change=0 locked=0 attempts_left=3 tamper=0 factory_pw=01 merchant=123456789012345 terminal=12345678 name="Caf\\xC3\\xA9"',
    ]);
    expect(second.host.send('LOGIN user=admin password=Adm1n-Secret')).toEqual([
      'OK user=admin must_change=0',
    ]);
    expect(second.host.send('GET key=settle.account')).toEqual(['OK key=settle.account value="****4300"']);
    expect(second.host.send('TIME')).toEqual(['OK utc=2030-01-01T00:00:00Z']);
    expect(second.host.send('USER-LIST')[1]).toBe('DATA id=05 name=Eve perms=sale,query must_change=1');
  });

  it('keeps a lock across a restart', () => {
    const clock = new VirtualClock();
    const first = start({}, clock);
    for (let i = 0; i < 5; i++) first.host.send('LOGIN user=admin password=wrong');
    first.h.terminal.close();
    clock.advance(60_000);
    const second = start({}, clock);
    expect(second.host.send('LOGIN user=admin password=1234')).toEqual([
      'ERR code=423 reason=locked retry_after=240',
    ]);
  });

  it('saves after every change', () => {
    const { host } = start();
    host.send('LOGIN user=admin password=1234');
    host.send('PASSWD old=1234 new=Adm1n-Secret');
    host.send('SET key=net.mode value=wifi');
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).settings['net.mode']).toBe('wifi');
  });

  it('belongs to one serial number; model and fw may change (a firmware update)', () => {
    start().h.terminal.close();
    expect(() => start({ identity: { sn: 'OTHER1' } })).toThrow(/belongs to terminal PBM0000001, not OTHER1/);
    const updated = start({ identity: { fw: '2.0.0' } });
    expect(updated.host.send('HELLO')[0]).toContain(' fw=2.0.0 ');
  });

  it('keeps stored hardware faults unless options replace them', () => {
    start({ tamper: true, diagFaults: 'printer:paper_out' }).h.terminal.close();
    expect(start().h.terminal.snapshot().hardware).toEqual({
      tamper: true,
      diagFaults: { printer: 'paper_out' },
    });
    expect(start({ tamper: false, diagFaults: '' }).h.terminal.snapshot().hardware).toEqual({
      tamper: false,
      diagFaults: {},
    });
  });

  it('refuses a broken file with an error naming the file and the field', () => {
    fs.writeFileSync(file, '{ not json');
    expect(() => start()).toThrow(MockConfigError);
    expect(() => start()).toThrow(new RegExp(`state file ${file}: not valid JSON`));

    const good = (() => {
      fs.rmSync(file);
      start().h.terminal.close();
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    })();
    const broken = (mutate: (doc: typeof good) => void): string => {
      const doc = structuredClone(good);
      mutate(doc);
      fs.writeFileSync(file, JSON.stringify(doc));
      try {
        start();
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(broken((d) => (d.operators['01'].perms = ['sale', 'fly']))).toMatch(
      `state file ${file}: field operators.01.perms.1`,
    );
    expect(broken((d) => (d.settings['host.port'] = '99999'))).toBe(
      `state file ${file}: field settings.host.port: an integer from 1 to 65535`,
    );
    expect(broken((d) => (d.binding = { merchant: '1', terminal: '12345678', name: '' }))).toMatch(
      /field binding.merchant/,
    );
    expect(broken((d) => (d.version = 2))).toMatch(/field version/);
    expect(broken((d) => (d.operators['100'] = d.operators['01']))).toMatch(/field operators.100/);
    expect(broken((d) => (d.hardware.diagFaults = { printer: 'jammed' }))).toMatch(
      /field hardware.diagFaults.printer: unknown code/,
    );
    expect(broken((d) => delete d.lockout)).toMatch(/field lockout/);
    expect(broken((d) => (d.identity.sn = 'has space'))).toMatch(/field identity.sn/);
  });

  it('reports an unreadable file', () => {
    fs.mkdirSync(file);
    expect(() => start()).toThrow(/cannot read it/);
  });
});
