/**
 * contrib/ kept in step with the code: the udev rule matches exactly the default allow-list of
 * terminal USB vendors and tags them uaccess early enough for logind, the systemd user unit runs
 * `posbridge daemon` on the default socket under %t, restarts it on failure and waits for the
 * daemon's orderly stop; both say how to install them, and both pass the checks of the tools
 * Debian ships (systemd-analyze verify, udevadm test).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LONGEST_STOP_MS } from '../../src/daemon/api/lifecycle.js';
import { DEFAULT_TERMINAL_IDS } from '../../src/host/ports/list.js';
import { requireTool, requireUnshareMounts } from '../support/tools.js';

const root = resolve(import.meta.dirname, '../..');
const rules = readFileSync(resolve(root, 'contrib/70-posbridge.rules'), 'utf8');
const unit = readFileSync(resolve(root, 'contrib/posbridge.service'), 'utf8');

describe('contrib/70-posbridge.rules', () => {
  const lines = rules.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('matches the default terminal vendors, and nothing else', () => {
    const vendors = [...rules.matchAll(/ENV\{ID_VENDOR_ID\}=="([0-9a-f]{4})"/g)].map((m) => m[1]);
    expect(vendors.sort()).toEqual(DEFAULT_TERMINAL_IDS.map((id) => id.vendorId).sort());
  });

  it('gives group access (0660), a stable /dev/posbridge/<serial> name, and keeps ModemManager away', () => {
    expect(rules).toMatch(/GROUP="dialout", MODE="0660", TAG\+="uaccess"/);
    expect(rules).toMatch(/SYMLINK\+="posbridge\/\$env\{ID_SERIAL_SHORT\}"/);
    expect(rules).toMatch(/ENV\{ID_MM_DEVICE_IGNORE\}="1"/);
    expect(lines[0]).toBe('ACTION=="remove", GOTO="posbridge_end"');
    expect(lines.at(-1)).toBe('LABEL="posbridge_end"');
    // Every line is a rule of KEY op "value" pairs (no stray text udev would reject).
    for (const line of lines) expect(line, line).toMatch(/^([A-Z_]+(\{[^}]+\})?(==|!=|=|\+=)"[^"]*"(, )?)+$/);
  });

  it('says how to install it', () => {
    expect(rules).toMatch(/^# Install:\n#\s+sudo cp contrib\/70-posbridge\.rules \/etc\/udev\/rules\.d\//m);
    expect(rules).toMatch(/udevadm control --reload-rules/);
  });
});

describe('contrib/posbridge.service', () => {
  it('runs posbridge daemon on the default socket, restarts it on failure', () => {
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/bin\/posbridge daemon --socket %t\/posbridge\/daemon\.sock/m,
    );
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^\[Install\]\nWantedBy=default\.target$/m);
    expect(unit).toMatch(/^TimeoutStopSec=\d+$/m);
  });

  it('says how to install it', () => {
    expect(unit).toMatch(/^# Install \(as the technician, not root\):$/m);
    expect(unit).toMatch(/systemctl --user enable --now posbridge/);
  });
});

const scratch = mkdtempSync(join(tmpdir(), 'posbridge-contrib-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('contrib/posbridge.service under systemd-analyze', () => {
  /** `systemd-analyze --user verify` of `text` as a unit file: its exit status and complaints. */
  function verify(text: string, name = 'posbridge.service') {
    const dir = mkdtempSync(join(scratch, 'unit-'));
    const runtime = join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    writeFileSync(join(dir, name), text);
    const run = spawnSync('systemd-analyze', ['--user', 'verify', join(dir, name)], {
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
    });
    return { status: run.status, stderr: run.stderr.trim() };
  }

  /** The unit with its ExecStart pointed at an executable that exists here (verify checks that). */
  function installed(): string {
    const bin = join(scratch, 'posbridge');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    return unit.replace('ExecStart=/usr/local/bin/posbridge ', `ExecStart=${bin} `);
  }

  it.skipIf(!requireTool('systemd-analyze', 'systemd'))(
    'passes, once posbridge is where ExecStart says',
    () => {
      expect(installed()).not.toBe(unit);
      expect(verify(installed())).toEqual({ status: 0, stderr: '' });
    },
  );

  it.skipIf(!requireTool('systemd-analyze', 'systemd'))(
    'names the missing executable when posbridge is not installed there',
    () => {
      const missing = unit.replace(
        'ExecStart=/usr/local/bin/posbridge ',
        `ExecStart=${join(scratch, 'not-installed', 'posbridge')} `,
      );
      const run = verify(missing);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/not-installed\/posbridge is not executable/);
    },
  );

  it.skipIf(!requireTool('systemd-analyze', 'systemd'))('the check does see a bad directive', () => {
    const run = verify(installed().replace('TimeoutStopSec=', 'TimeoutStopSex='));
    expect(run.stderr).toMatch(/Unknown key 'TimeoutStopSex'/);
  });

  it('gives the daemon longer than its orderly stop before SIGKILL, with SIGTERM', () => {
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
    expect(stop * 1000).toBeGreaterThan(LONGEST_STOP_MS);
    // ...but not minutes: a stuck daemon holds the bench PC's shutdown for all that time.
    expect(stop * 1000).toBeLessThanOrEqual(2 * LONGEST_STOP_MS);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    // The comment's figures are the code's.
    expect(unit).toContain(`${LONGEST_STOP_MS / 1000} s at most`);
  });
});

describe('contrib/70-posbridge.rules under udevadm', () => {
  /**
   * `udevadm test` on a tty with the rule installed in /etc/udev/rules.d, in a private mount
   * namespace (the machine's rules directory is left alone): the rules files in the order udev
   * reads them, and what udev said about the file's lines.
   */
  function udevTest(text: string, name = '70-posbridge.rules') {
    const file = join(scratch, name);
    writeFileSync(file, text);
    const script = `mount -t tmpfs none /etc/udev/rules.d && cp '${file}' /etc/udev/rules.d/ && udevadm test /sys/class/tty/tty0`;
    const run = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
    });
    const output = `${run.stdout}${run.stderr}`;
    const order = [...output.matchAll(/^Reading rules file: (.+)$/gm)].map((m) => m[1]!.split('/').at(-1)!);
    // Parse errors start with the file's path; what runs on the device starts with its name.
    const complaints = output.split('\n').filter((line) => line.startsWith(`/etc/udev/rules.d/${name}:`));
    return { status: run.status, order, complaints };
  }

  const ready = () => requireTool('udevadm', 'udev') && requireUnshareMounts();

  it.skipIf(!ready())('parses without a complaint, and is read before 73-seat-late.rules (uaccess)', () => {
    const run = udevTest(rules);
    expect(run.complaints).toEqual([]);
    expect(run.status).toBe(0);
    expect(run.order).toContain('70-posbridge.rules');
    expect(run.order).toContain('73-seat-late.rules');
    expect(run.order.indexOf('70-posbridge.rules')).toBeLessThan(run.order.indexOf('73-seat-late.rules'));
  });

  it.skipIf(!ready())('the check does see a bad line, and a file read too late for uaccess', () => {
    const bad = udevTest(rules.replace('MODE="0660", TAG+="uaccess"', 'MODE="0660", TAGS+="uaccess"'));
    expect(bad.complaints.join('\n')).toMatch(/Invalid/);
    const late = udevTest(rules, '99-posbridge.rules');
    expect(late.order.indexOf('99-posbridge.rules')).toBeGreaterThan(
      late.order.indexOf('73-seat-late.rules'),
    );
  });
});
