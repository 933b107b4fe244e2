/**
 * TSP/1 settings keys: factory value, rule and how a reply shows the value. Adding a setting
 * touches this table only.
 */
import { isHostAddress, isTextWithin, maskAccount, parseIntegerIn } from './validators.js';

export interface SettingSpec {
  /** The value a factory-fresh (or RESET) terminal holds; '' reads as unset. */
  factory: string;
  /** The value to store, exactly as given (D48: no normalization), or undefined when it breaks the rule. */
  parse(value: string): string | undefined;
  /** How GET and SET replies show a stored value (write-only settings are masked). */
  show?(stored: string): string;
  /** The rule in words, for errors and docs. */
  rule: string;
  /** The value is a secret (never logged or traced in clear). */
  secret?: boolean;
}

const within = (min: number, max: number) => (v: string) =>
  parseIntegerIn(v, min, max) === undefined ? undefined : v;

export const SETTINGS = {
  'net.mode': {
    factory: 'eth',
    parse: (v) => (['wifi', 'eth', 'gprs'].includes(v) ? v : undefined),
    rule: 'wifi, eth or gprs',
  },
  'net.apn': {
    factory: '',
    parse: (v) => (/^[\x20-\x7e]{0,63}$/.test(v) ? v : undefined),
    rule: 'at most 63 printable ASCII characters ("" clears it)',
  },
  'net.wifi.ssid': {
    factory: '',
    parse: (v) => (isTextWithin(v, 1, 32) ? v : undefined),
    rule: '1 to 32 bytes of UTF-8 text',
  },
  'host.addr': {
    factory: '',
    parse: (v) => (isHostAddress(v) ? v : undefined),
    rule: 'a host name or IPv4 address of at most 253 characters',
  },
  'host.port': { factory: '', parse: within(1, 65535), rule: 'an integer from 1 to 65535' },
  'support.phone': {
    factory: '',
    parse: (v) => (/^[+0-9-]{3,20}$/.test(v) ? v : undefined),
    rule: '3 to 20 characters of +, digits and -',
  },
  'lockout.max': {
    factory: '5',
    parse: within(0, 99),
    rule: 'an integer from 0 to 99 (0 disables lockout)',
  },
  'lockout.seconds': { factory: '300', parse: within(1, 86400), rule: 'an integer from 1 to 86400' },
  'settle.account': {
    factory: '',
    parse: (v) => (/^[A-Za-z0-9]{8,34}$/.test(v) ? v : undefined),
    show: maskAccount,
    rule: '8 to 34 letters and digits (write-only: replies show **** and the last four)',
    secret: true,
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

export function showSetting(key: SettingKey, stored: string): string {
  const spec: SettingSpec = SETTINGS[key];
  return spec.show ? spec.show(stored) : stored;
}

export function factorySettings(): Record<SettingKey, string> {
  return Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].factory])) as Record<SettingKey, string>;
}
