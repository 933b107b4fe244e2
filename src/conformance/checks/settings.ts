/**
 * docs/protocol.md §16 Settings: factory values, each key's rule at its limits (a value is stored
 * and echoed as given, D48), unknown keys, and the write-only settlement account.
 */
import { encodeValue, type ValueInput } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import { FACTORY_SETTINGS, MAX_ECHO } from '../spec.js';

const settings = (spec: Parameters<typeof check>[1]) => check('settings', spec);

interface KeyRule {
  key: string;
  section: string;
  rule: string;
  /** Accepted, stored and echoed as given. */
  good: ValueInput[];
  /** 422 invalid-value key=<key>. */
  bad: ValueInput[];
}

const label = (n: number, c = 'a') => c.repeat(n);

const RULES: KeyRule[] = [
  {
    key: 'net.mode',
    section: '§16',
    rule: 'wifi, eth or gprs, lower case',
    good: ['wifi', 'gprs', 'eth'],
    bad: ['WIFI', 'lte', 'Eth', ''],
  },
  {
    key: 'net.apn',
    section: '§16, D17',
    rule: 'at most 63 printable ASCII characters, "" clears it',
    good: ['internet.example', 'apn with spaces', label(63), ''],
    bad: [label(64), 'caf\u00e9'],
  },
  {
    key: 'net.wifi.ssid',
    section: '§16, §5 Text, example 20',
    rule: '1 to 32 bytes of UTF-8 text',
    good: ['Café "Lumière" \\ 5G', label(32), 'é'.repeat(16)],
    bad: ['', label(33), `${'é'.repeat(16)}x`, Uint8Array.from([0x43, 0x61, 0x66, 0xe9])],
  },
  {
    key: 'host.addr',
    section: '§16, §5 Numbers, D48, example 39',
    rule: 'an IPv4 address without leading zeros, or a host name of at most 253 characters',
    good: [
      '10.0.0.10',
      '255.255.255.255',
      '0.0.0.0',
      'acq.example.net',
      'Acq-1.Example.NET',
      `${label(63)}.example`,
      [label(63), label(63), label(63), label(61)].join('.'),
    ],
    bad: [
      '10.0.0.010',
      '256.1.1.1',
      '1.2.3',
      '-acq.example.net',
      'acq-.example.net',
      'acq..example.net',
      `${label(64)}.example`,
      [label(63), label(63), label(63), label(62)].join('.'),
      'acq.example.123',
      'acq_host.example',
    ],
  },
  {
    key: 'host.port',
    section: '§16, §5 Numbers, example 18',
    rule: 'an integer from 1 to 65535, no leading zeros',
    good: ['1', '8583', '65535'],
    bad: ['0', '65536', '08583', '-1', '80a', '+80'],
  },
  {
    key: 'support.phone',
    section: '§16',
    rule: '3 to 20 characters, each +, a digit or -',
    good: ['110', '+86-10-12345678', `+${'1'.repeat(19)}`],
    bad: ['11', `+${'1'.repeat(20)}`, '12a45', '+86 10 1234', '(010)1234'],
  },
  {
    key: 'lockout.max',
    section: '§16, §13',
    rule: 'an integer from 0 to 99',
    good: ['0', '99', '5'],
    bad: ['100', '-1', '05', '1.5'],
  },
  {
    key: 'lockout.seconds',
    section: '§16, §13',
    rule: 'an integer from 1 to 86400',
    good: ['1', '86400', '300'],
    bad: ['0', '86401', '0300', '60s'],
  },
];

function ruleCheck(rule: KeyRule): Check {
  return settings({
    name: rule.key,
    section: rule.section,
    title: `${rule.key}: ${rule.rule}; stored and echoed as given, else 422 invalid-value key=${rule.key}`,
    start: 'admin-ready',
    async run(t) {
      for (const value of rule.good) {
        const written = encodeValue(value);
        expectOk(
          await set(t, rule.key, value),
          { key: rule.key, value: { written } },
          `SET ${rule.key}=${written}`,
        );
        expectOk(
          await get(t, rule.key),
          { key: rule.key, value: { written } },
          `GET ${rule.key} after setting ${written}`,
        );
      }
      const last = encodeValue(rule.good.at(-1)!);
      for (const value of rule.bad) {
        const written = encodeValue(value);
        expectErr(
          await set(t, rule.key, value),
          422,
          'invalid-value',
          { key: rule.key },
          `SET ${rule.key}=${written}`,
        );
      }
      expectOk(await get(t, rule.key), { value: { written: last } }, 'refused values change nothing');
    },
  });
}

function set(t: Ctx, key: string, value: ValueInput) {
  return t.request('SET', [
    ['key', key],
    ['value', value],
  ]);
}

function get(t: Ctx, key: ValueInput) {
  return t.request('GET', [['key', key]]);
}

export const settingChecks: Check[] = [
  settings({
    name: 'factory-values',
    section: '§16',
    title: 'after RESET every setting reads its factory value (unset ones as "")',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      for (const [key, value] of Object.entries(FACTORY_SETTINGS))
        expectOk(await get(t, key), { key, value: { written: encodeValue(value) } }, `GET ${key}`);
    },
  }),
  ...RULES.map(ruleCheck),
  settings({
    name: 'settle.account',
    section: '§16, §5, example 19',
    title:
      'settle.account: 8-34 letters and digits, write-only: SET and GET show "****" and the last four, never the account',
    start: 'admin-ready',
    async run(t) {
      const accounts = ['AB12CD34', '6222020200112233445', `${'9'.repeat(30)}WXYZ`];
      for (const account of accounts) {
        const masked = { written: `"****${account.slice(-4)}"` };
        expectOk(
          await set(t, 'settle.account', account),
          { key: 'settle.account', value: masked },
          `SET ${account.length} characters`,
        );
        expectOk(await get(t, 'settle.account'), { key: 'settle.account', value: masked }, 'GET');
      }
      for (const bad of ['AB12CD3', '1'.repeat(35), '6222-0202-0011', 'AB12 CD34'])
        expectErr(
          await set(t, 'settle.account', bad),
          422,
          'invalid-value',
          { key: 'settle.account' },
          `${bad.length} characters`,
        );
      const leaked = t.wire.recorded.filter(
        (r) => r.dir === 'in' && accounts.some((account) => r.text.includes(account.slice(0, -4))),
      );
      expectThat(leaked.length === 0, '§16: the settlement account never appears in clear in a reply', {
        got: `${leaked.length} line(s) showing it`,
      });
    },
  }),
  settings({
    name: 'unknown-key',
    section: '§15 GET/SET, D17',
    title: 'GET and SET of a key that does not exist are 422 unknown-key echoing it',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      expectErr(await get(t, 'net.foo'), 422, 'unknown-key', { key: 'net.foo' }, 'GET net.foo');
      expectErr(await set(t, 'net.foo', '1'), 422, 'unknown-key', { key: 'net.foo' }, 'SET net.foo');
      expectErr(await get(t, 'NET.MODE'), 422, 'unknown-key', { key: 'NET.MODE' }, 'keys are case-sensitive');
    },
  }),
  settings({
    name: 'unknown-key-echo-cut',
    section: 'D35, D47, §19',
    title: 'an echoed unknown key is cut to the longest start that is at most 64 bytes as written',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      const long = 'k'.repeat(300);
      expectErr(await get(t, long), 422, 'unknown-key', { key: long.slice(0, MAX_ECHO) }, 'a 300-byte key');
      // é is two bytes, each written \xHH (four bytes): "" plus 15 escapes is 62 bytes, 16 would be 66.
      const bytes = new TextEncoder().encode('é'.repeat(40));
      expectErr(
        await get(t, bytes),
        422,
        'unknown-key',
        { key: { written: encodeValue(bytes.slice(0, 15)) } },
        'a key of 80 non-ASCII bytes',
      );
    },
  }),
];
