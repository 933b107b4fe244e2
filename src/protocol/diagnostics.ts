/**
 * The twelve TSP/1 self-diagnostic checks, in their default order, with every failure code the
 * terminal may report, its status and the hint a technician acts on (each hint at most 120
 * characters). Adding a check or a code touches this table only.
 */

export type DiagStatus = 'pass' | 'warn' | 'fail';

export interface DiagCode {
  status: 'warn' | 'fail';
  hint: string;
}

export interface DiagCheckSpec {
  /** What the check looks at, for docs and reports. */
  title: string;
  /** A typical processing time on a real terminal, in milliseconds (the mock's default). */
  typicalMs: number;
  codes: Record<string, DiagCode>;
}

export const DIAG_CHECKS = {
  power: {
    title: 'battery and power supply',
    typicalMs: 20,
    codes: {
      battery_low: { status: 'warn', hint: 'Battery low: connect the power adapter and charge before use' },
      battery_fault: {
        status: 'fail',
        hint: 'Battery fault: replace the battery pack or return the terminal',
      },
    },
  },
  clock: {
    title: 'real-time clock',
    typicalMs: 5,
    codes: {
      not_set: { status: 'warn', hint: 'Clock not set: set it with TIME (posbridge provision does)' },
      rtc_fault: { status: 'fail', hint: 'Clock keeps no time: the RTC battery is flat; return for service' },
    },
  },
  storage: {
    title: 'data storage (unstable data)',
    typicalMs: 60,
    codes: {
      corrupt: {
        status: 'fail',
        hint: 'Storage unstable: settle pending batches, then RESET; return it if this repeats',
      },
      nearly_full: { status: 'warn', hint: 'Storage nearly full: settle and clear the transaction journal' },
    },
  },
  software: {
    title: 'software components',
    typicalMs: 40,
    codes: {
      missing_component: {
        status: 'fail',
        hint: 'A software component is missing: reinstall the payment application package',
      },
      outdated: { status: 'warn', hint: 'Firmware is older than the acquirer requires: update it' },
    },
  },
  keys: {
    title: 'secure keys (cannot transact without them)',
    typicalMs: 30,
    codes: {
      missing_keys: {
        status: 'fail',
        hint: 'Secure keys missing: cannot transact; load keys at the key injection station',
      },
      expired: { status: 'warn', hint: 'Working keys expired: they renew at the next host sign-on' },
    },
  },
  network: {
    title: 'network link (cannot reach the network)',
    typicalMs: 400,
    codes: {
      no_link: { status: 'fail', hint: 'No network link: check the Ethernet cable or the Wi-Fi settings' },
      no_sim: { status: 'fail', hint: 'No SIM card: insert an activated SIM and set net.apn' },
      weak_signal: { status: 'warn', hint: 'Weak signal: move the terminal or use Ethernet' },
    },
  },
  host: {
    title: 'acquirer host (cannot transact)',
    typicalMs: 600,
    codes: {
      not_configured: {
        status: 'warn',
        hint: 'Host not configured: set host.addr and host.port from the acquirer sheet',
      },
      unreachable: {
        status: 'fail',
        hint: 'Host does not answer: check host.addr, host.port and the network',
      },
    },
  },
  printer: {
    title: 'receipt printer',
    typicalMs: 50,
    codes: {
      paper_out: { status: 'fail', hint: 'Printer out of paper: load a new roll' },
      cover_open: { status: 'fail', hint: 'Printer cover open: close it until it clicks' },
      overheat: { status: 'warn', hint: 'Print head hot: let it cool for a few minutes' },
    },
  },
  msr: {
    title: 'magnetic stripe reader',
    typicalMs: 15,
    codes: {
      read_error: { status: 'fail', hint: 'Magstripe reader fails: clean the head with a cleaning card' },
    },
  },
  icc: {
    title: 'chip card reader',
    typicalMs: 25,
    codes: {
      reader_fault: {
        status: 'fail',
        hint: 'Chip reader fault: clean the slot; return the terminal if it repeats',
      },
    },
  },
  nfc: {
    title: 'contactless reader',
    typicalMs: 25,
    codes: {
      antenna_fault: { status: 'fail', hint: 'Contactless antenna fault: return the terminal for service' },
    },
  },
  tamper: {
    title: 'PIN pad tamper switch',
    typicalMs: 10,
    codes: {
      tampered: {
        status: 'fail',
        hint: 'Tamper detected: do not use or provision; quarantine and return to the vendor',
      },
    },
  },
} as const satisfies Record<string, DiagCheckSpec>;

export type DiagCheck = keyof typeof DIAG_CHECKS;
export const DIAG_CHECK_ORDER = Object.keys(DIAG_CHECKS) as DiagCheck[];

export function isDiagCheck(name: string): name is DiagCheck {
  return Object.hasOwn(DIAG_CHECKS, name);
}

/** The spec of a failure code of a check, if the code exists. */
export function diagCode(check: DiagCheck, code: string): DiagCode | undefined {
  const codes: Record<string, DiagCode> = DIAG_CHECKS[check].codes;
  return Object.hasOwn(codes, code) ? codes[code] : undefined;
}
