/**
 * contrib/ kept in step with the code: the udev rule matches exactly the default allow-list of
 * terminal USB vendors, the systemd user unit runs `posbridge daemon` on the default socket
 * under %t and restarts it on failure, and both say how to install them.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TERMINAL_IDS } from '../../src/host/ports/list.js';

const root = resolve(import.meta.dirname, '../..');
const rules = readFileSync(resolve(root, 'contrib/99-posbridge.rules'), 'utf8');
const unit = readFileSync(resolve(root, 'contrib/posbridge.service'), 'utf8');

describe('contrib/99-posbridge.rules', () => {
  const lines = rules.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

  it('matches the default terminal vendors, and nothing else', () => {
    const vendors = [...rules.matchAll(/ENV\{ID_VENDOR_ID\}=="([0-9a-f]{4})"/g)].map((m) => m[1]);
    expect(vendors.sort()).toEqual(DEFAULT_TERMINAL_IDS.map((id) => id.vendorId).sort());
  });

  it('gives group access (0660), a stable /dev/posbridge/<serial> name, and keeps ModemManager away', () => {
    expect(rules).toMatch(/GROUP="dialout", MODE="0660"/);
    expect(rules).toMatch(/SYMLINK\+="posbridge\/\$env\{ID_SERIAL_SHORT\}"/);
    expect(rules).toMatch(/ENV\{ID_MM_DEVICE_IGNORE\}="1"/);
    expect(lines[0]).toBe('ACTION=="remove", GOTO="posbridge_end"');
    expect(lines.at(-1)).toBe('LABEL="posbridge_end"');
    // Every line is a rule of KEY op "value" pairs (no stray text udev would reject).
    for (const line of lines) expect(line, line).toMatch(/^([A-Z_]+(\{[^}]+\})?(==|!=|=|\+=)"[^"]*"(, )?)+$/);
  });

  it('says how to install it', () => {
    expect(rules).toMatch(/^# Install:\n#\s+sudo cp contrib\/99-posbridge\.rules \/etc\/udev\/rules\.d\//m);
    expect(rules).toMatch(/udevadm control --reload-rules/);
  });
});

describe('contrib/posbridge.service', () => {
  it('runs posbridge daemon on the default socket, restarts it on failure', () => {
    expect(unit).toMatch(/^ExecStart=posbridge daemon --socket %t\/posbridge\/daemon\.sock/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^\[Install\]\nWantedBy=default\.target$/m);
    expect(unit).toMatch(/^TimeoutStopSec=\d+$/m);
  });

  it('says how to install it', () => {
    expect(unit).toMatch(/^# Install \(as the technician, not root\):$/m);
    expect(unit).toMatch(/systemctl --user enable --now posbridge/);
  });
});
