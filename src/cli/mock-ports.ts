/**
 * `mock://NAME[?options]`: an in-process mock terminal per NAME, reached through the mock's
 * in-process serialport binding and the daemon's ordinary serial code path, so a demo or a test
 * exercises the same stack a USB cable does. The CLI is the composition root: src/host never
 * learns that the mock exists.
 */

import { PosbridgeError } from '../host/errors.js';
import { serialPortFactory } from '../host/ports/serial.js';
import type { PortFactory } from '../host/ports/transport.js';
// The modules themselves, not the indexes: a mock:// port needs neither the pty and TCP
// transports nor the state file's schema (zod), and `info --port mock://x` starts faster without.
import type { MockTerminalOptions } from '../mock-device/options.js';
import { MockTerminal } from '../mock-device/terminal.js';
import { createInProcessBinding } from '../mock-device/transports/inproc-binding.js';

/** Query parameters a mock:// port accepts, mapped to MockTerminal options. */
const PARAMETERS: Record<string, (value: string, options: MockTerminalOptions) => void> = {
  'diag-fail': (v, o) => {
    o.diagFaults = v;
  },
  tamper: (v, o) => {
    o.tamper = v === '1' || v === 'true';
  },
  fault: (v, o) => {
    o.faults = v;
  },
  seed: (v, o) => {
    o.seed = integer('seed', v);
  },
  baud: (v, o) => {
    o.baud = integer('baud', v);
  },
  sn: (v, o) => {
    o.identity = { ...o.identity, sn: v };
  },
  'reboot-ms': (v, o) => {
    o.rebootMs = integer('reboot-ms', v);
  },
  'diag-time-scale': (v, o) => {
    o.diagTimeScale = Number(v);
  },
};

function integer(name: string, value: string): number {
  if (!/^[0-9]+$/.test(value))
    throw new PosbridgeError('USAGE', `mock:// option ${name} must be a whole number, not "${value}"`);
  return Number(value);
}

export interface MockPortsOptions {
  /** Defaults every mock:// terminal starts from (tests pass a virtual clock, diagTimeScale 0...). */
  defaults?: MockTerminalOptions;
}

/** The terminals of this process, by NAME: each is one terminal for the life of the process. */
export class MockPorts {
  private readonly terminals = new Map<string, { terminal: MockTerminal; options: string }>();
  private portFactory: PortFactory | undefined;

  constructor(private readonly options: MockPortsOptions = {}) {}

  /** The PortFactory to register under the `mock` scheme (one binding: one lock per NAME). */
  factory(): PortFactory {
    this.portFactory ??= serialPortFactory({
      binding: createInProcessBinding((path) => {
        const terminal = this.terminal(path);
        return (link) => terminal.attach(link);
      }) as never,
      deviceChecks: false,
    });
    return this.portFactory;
  }

  /** The terminal a mock:// name designates, created on first use. */
  terminal(portName: string): MockTerminal {
    const url = parseMockUrl(portName);
    const canonical = [...url.params].sort(([a], [b]) => a.localeCompare(b)).join('&');
    const known = this.terminals.get(url.name);
    if (known) {
      // One NAME is one terminal: options given later would be silently ignored, so refuse them.
      if (canonical !== '' && canonical !== known.options) {
        throw new PosbridgeError('USAGE', `mock://${url.name} already runs with other options`, {
          hint: `use mock://${url.name} alone to reach it, or another name for another terminal`,
        });
      }
      return known.terminal;
    }
    const options: MockTerminalOptions = { baud: 0, ...this.options.defaults };
    for (const [key, value] of url.params) {
      const apply = PARAMETERS[key];
      if (!apply) {
        throw new PosbridgeError('USAGE', `unknown mock:// option "${key}"`, {
          hint: `known: ${Object.keys(PARAMETERS).join(', ')}`,
        });
      }
      apply(value, options);
    }
    let terminal: MockTerminal;
    try {
      terminal = new MockTerminal(options);
    } catch (error) {
      throw new PosbridgeError('USAGE', `bad mock:// port ${portName}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.terminals.set(url.name, { terminal, options: canonical });
    return terminal;
  }

  async close(): Promise<void> {
    for (const { terminal } of this.terminals.values()) terminal.close();
    this.terminals.clear();
  }
}

function parseMockUrl(portName: string): { name: string; params: URLSearchParams } {
  const match = /^mock:\/\/([^?]+)(?:\?(.*))?$/.exec(portName);
  if (!match)
    throw new PosbridgeError('USAGE', `"${portName}" is not a mock port`, {
      hint: 'write mock://NAME, e.g. mock://demo',
    });
  return { name: match[1]!, params: new URLSearchParams(match[2] ?? '') };
}
