/** docs/protocol.md §15 Commands: HELLO, STATUS, LOGIN, LOGOUT, PASSWD, INIT, TIME (users: commands-users.ts). */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import {
  CAPS,
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_PASSWORD,
  SUITE_ADMIN_PASSWORD,
  SUITE_ADMIN_PASSWORD_2,
  SUITE_MERCHANT,
  SUITE_TERMINAL,
} from '../spec.js';
import { expectKeys, expectStatusShape, isBareToken } from './shapes.js';

const commands = (spec: Parameters<typeof check>[1]) => check('commands', spec);

const UTC = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

async function expectLoginWorks(
  t: Ctx,
  user: string,
  password: string,
  mustChange: '0' | '1',
): Promise<void> {
  const x = await t.request('LOGIN', [
    ['user', user],
    ['password', password],
  ]);
  expectOk(x, { user, must_change: mustChange }, `LOGIN user=${user} with the new password`);
}

export const commandChecks: Check[] = [
  commands({
    name: 'hello',
    section: '§15 HELLO',
    title: 'HELLO answers proto=1, model, sn, fw (bare tokens of 1-32), state and exactly the caps',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const ok = expectOk(await t.request('HELLO'), { proto: '1', state: 'factory', caps: CAPS });
      expectKeys(ok, ['proto', 'model', 'sn', 'fw', 'state', 'caps'], 'HELLO');
      for (const key of ['model', 'sn', 'fw'])
        expectThat(
          isBareToken(ok.fields[key], 32),
          `§15 HELLO: ${key} must be a bare token of 1 to 32 characters`,
          {
            got: `${key}=${ok.written[key]}`,
          },
        );
    },
  }),
  commands({
    name: 'hello-any-proto',
    section: '§15 HELLO, D34',
    title: 'HELLO with another proto answers proto=1',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('HELLO', [['proto', '2']]), { proto: '1' });
      expectOk(await t.request('HELLO', [['proto', 'TSP/9 beta']]), { proto: '1' }, 'a quoted proto');
    },
  }),
  commands({
    name: 'status-factory',
    section: '§15 STATUS, §12, D18',
    title: 'STATUS of a factory terminal: its fields, in order, with their factory values',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const ok = expectOk(await t.request('STATUS'), {
        state: 'factory',
        login: 'none',
        must_change: '0',
        locked: '0',
        attempts_left: '5',
        tamper: '0',
        factory_pw: 'admin,01',
      });
      expectStatusShape(ok, { lockoutEnabled: true });
    },
  }),
  commands({
    name: 'login-factory-admin',
    section: '§15 LOGIN, §12, example 7',
    title: 'LOGIN with the factory admin password answers must_change=1; STATUS shows the login',
    start: 'factory',
    async run(t) {
      const ok = expectOk(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', FACTORY_ADMIN_PASSWORD],
        ]),
        { user: 'admin', must_change: '1' },
      );
      expectKeys(ok, ['user', 'must_change'], 'LOGIN');
      expectOk(await t.request('STATUS'), { login: 'admin', must_change: '1', factory_pw: 'admin,01' });
    },
  }),
  commands({
    name: 'login-factory-operator',
    section: '§15 LOGIN, §12',
    title: 'operator 01 logs in with 123456 and must change it',
    start: 'factory',
    async run(t) {
      await expectLoginWorks(t, '01', FACTORY_OPERATOR_PASSWORD, '1');
      expectOk(await t.request('STATUS'), { login: '01', must_change: '1' });
    },
  }),
  commands({
    name: 'logout',
    section: '§15 LOGOUT, example 15',
    title: 'LOGOUT answers OK with and without a login; afterwards commands need a login',
    start: 'admin-ready',
    async run(t) {
      expectOk(await t.request('LOGOUT'));
      expectOk(await t.request('LOGOUT'), {}, 'LOGOUT without a login');
      expectErr(await t.request('GET', [['key', 'net.mode']]), 401, 'auth-required');
      expectOk(await t.request('STATUS'), { login: 'none', must_change: '0' });
    },
  }),
  commands({
    name: 'passwd-own',
    section: '§15 PASSWD, §12, example 11',
    title: "PASSWD old= new= confirm= changes one's own password, clears must_change and factory_pw",
    start: 'admin-must-change',
    async run(t) {
      expectOk(
        await t.request('PASSWD', [
          ['old', FACTORY_ADMIN_PASSWORD],
          ['new', SUITE_ADMIN_PASSWORD],
          ['confirm', SUITE_ADMIN_PASSWORD],
        ]),
      );
      t.adminPassword = SUITE_ADMIN_PASSWORD;
      expectOk(await t.request('STATUS'), { login: 'admin', must_change: '0', factory_pw: '01' });
      await t.ok('LOGOUT');
      await expectLoginWorks(t, 'admin', SUITE_ADMIN_PASSWORD, '0');
    },
  }),
  commands({
    name: 'passwd-user-admin-is-own',
    section: '§15 PASSWD, D11',
    title: 'PASSWD user=admin from the admin is its own change (old= checked)',
    start: 'admin-ready',
    async run(t) {
      expectOk(
        await t.request('PASSWD', [
          ['user', 'admin'],
          ['old', SUITE_ADMIN_PASSWORD],
          ['new', SUITE_ADMIN_PASSWORD_2],
        ]),
      );
      t.adminPassword = SUITE_ADMIN_PASSWORD_2;
      await expectLoginWorks(t, 'admin', SUITE_ADMIN_PASSWORD_2, '0');
    },
  }),
  commands({
    name: 'passwd-confirm-differs',
    section: '§15 PASSWD check 3',
    title:
      'PASSWD with a confirm= that differs from new= is 422 invalid-value key=confirm and changes nothing',
    start: 'admin-ready',
    async run(t) {
      expectErr(
        await t.request('PASSWD', [
          ['old', SUITE_ADMIN_PASSWORD],
          ['new', SUITE_ADMIN_PASSWORD_2],
          ['confirm', 'Tsp1.Other-3q'],
        ]),
        422,
        'invalid-value',
        { key: 'confirm' },
      );
      await expectLoginWorks(t, 'admin', SUITE_ADMIN_PASSWORD, '0');
    },
  }),
  commands({
    name: 'passwd-admin-sets-operator',
    section: '§15 PASSWD, §12, D11, example 23',
    title:
      "the admin sets an operator's password without old=; the operator must change it; factory_pw drops it",
    start: 'admin-ready',
    async run(t) {
      expectOk(
        await t.request('PASSWD', [
          ['user', '01'],
          ['new', 'Wd3.kk7Zp'],
        ]),
      );
      expectOk(await t.request('STATUS'), { factory_pw: 'none', attempts_left: '5' });
      const list = await t.request('USER-LIST');
      expectOk(list, { count: '1' });
      expectThat(
        list.data[0]?.fields.must_change === '1',
        '§12: the operator must change a password the admin set',
        {
          expected: 'must_change=1',
          got: list.data[0]?.raw.text,
        },
      );
      // An old= given is ignored: not checked, not counted, not compared by the policy (D11).
      expectOk(
        await t.request('PASSWD', [
          ['user', '01'],
          ['old', 'Not.The-Pw9'],
          ['new', 'Not.The-Pw9'],
        ]),
        {},
        'with an old= that is wrong and equal to new=',
      );
      expectOk(await t.request('STATUS'), { attempts_left: '5' }, 'the ignored old= cost no attempt');
      await expectLoginWorks(t, '01', 'Not.The-Pw9', '1');
    },
  }),
  commands({
    name: 'init',
    section: '§15 INIT, example 16',
    title: 'the first INIT binds the numbers (leading zeros kept) and a UTF-8 name; STATUS and HELLO show it',
    start: 'admin-ready',
    async run(t) {
      const ok = expectOk(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
          ['name', 'Café Lumière'],
        ]),
        { state: 'initialized', changed: '1' },
      );
      expectKeys(ok, ['state', 'changed'], 'INIT');
      const status = expectOk(await t.request('STATUS'), {
        state: 'initialized',
        merchant: SUITE_MERCHANT,
        terminal: SUITE_TERMINAL,
        name: { written: '"Caf\\xC3\\xA9 Lumi\\xC3\\xA8re"' },
      });
      expectStatusShape(status, { lockoutEnabled: true });
      expectOk(await t.request('HELLO'), { state: 'initialized' });
    },
  }),
  commands({
    name: 'init-again',
    section: '§15 INIT, D38, example 17',
    title: 'INIT with the same numbers: changed=0, or changed=1 for a new name; other numbers: 409',
    start: 'provisioned',
    async run(t) {
      const same: Array<[string, string]> = [
        ['merchant', SUITE_MERCHANT],
        ['terminal', SUITE_TERMINAL],
      ];
      expectOk(await t.request('INIT', same), { state: 'initialized', changed: '0' }, 'the same numbers');
      expectOk(await t.request('STATUS'), { name: 'Conformance bench' }, 'INIT without name keeps the name');
      expectOk(await t.request('INIT', [...same, ['name', 'Second name']]), { changed: '1' }, 'a new name');
      expectOk(
        await t.request('INIT', [...same, ['name', 'Second name']]),
        { changed: '0' },
        'the same name again',
      );
      expectErr(
        await t.request('INIT', [
          ['merchant', '104110058120002'],
          ['terminal', SUITE_TERMINAL],
        ]),
        409,
        'wrong-state',
        {},
        'other numbers',
      );
      expectOk(await t.request('STATUS'), { merchant: SUITE_MERCHANT, name: 'Second name' });
      const events = t.takeEvents().filter((e) => e.event === 'state');
      expectThat(events.length === 0, '§15 INIT: only the first INIT sends EVT state', {
        got: events.map((e) => e.raw.text).join(' | '),
      });
    },
  }),
  commands({
    name: 'init-values',
    section: '§15 INIT, D33',
    title: 'INIT checks merchant (15 digits), terminal (8 digits), name (1-40 UTF-8 bytes), in that order',
    start: 'admin-ready',
    async run(t) {
      const cases: Array<[string, Array<[string, string]>, string]> = [
        [
          '14 digits',
          [
            ['merchant', '10411005812000'],
            ['terminal', '21017745'],
          ],
          'merchant',
        ],
        [
          '16 digits',
          [
            ['merchant', '1041100581200011'],
            ['terminal', '21017745'],
          ],
          'merchant',
        ],
        [
          'letters',
          [
            ['merchant', '10411005812000A'],
            ['terminal', '21017745'],
          ],
          'merchant',
        ],
        [
          '7 digits',
          [
            ['merchant', SUITE_MERCHANT],
            ['terminal', '2101774'],
          ],
          'terminal',
        ],
        [
          'both wrong',
          [
            ['merchant', '1'],
            ['terminal', '2'],
          ],
          'merchant',
        ],
        [
          'empty name',
          [
            ['merchant', SUITE_MERCHANT],
            ['terminal', SUITE_TERMINAL],
            ['name', ''],
          ],
          'name',
        ],
        [
          '41-byte name',
          [
            ['merchant', SUITE_MERCHANT],
            ['terminal', SUITE_TERMINAL],
            ['name', 'n'.repeat(41)],
          ],
          'name',
        ],
        [
          'terminal before name',
          [
            ['merchant', SUITE_MERCHANT],
            ['terminal', '1'],
            ['name', ''],
          ],
          'terminal',
        ],
      ];
      for (const [what, fields, key] of cases)
        expectErr(await t.request('INIT', fields), 422, 'invalid-value', { key }, what);
      const invalidUtf8 = Uint8Array.from([0x43, 0x61, 0x66, 0xe9]);
      expectErr(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
          ['name', invalidUtf8],
        ]),
        422,
        'invalid-value',
        { key: 'name' },
        'a name that is not UTF-8',
      );
      expectOk(await t.request('STATUS'), { state: 'factory' }, 'nothing was bound');
      // 40 bytes of UTF-8 (20 two-byte characters) is the longest name.
      expectOk(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
          ['name', 'é'.repeat(20)],
        ]),
        { changed: '1' },
        'a name of 40 bytes',
      );
    },
  }),
  commands({
    name: 'init-without-name',
    section: '§15 STATUS, INIT',
    title: 'after an INIT without name, STATUS shows name=""',
    start: 'admin-ready',
    async run(t) {
      expectOk(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
        ]),
        { changed: '1' },
      );
      expectOk(await t.request('STATUS'), { name: { written: '""' } });
    },
  }),
  commands({
    name: 'time',
    section: '§15 TIME, D16',
    title: 'TIME utc= sets the clock and answers it; TIME reads it running on',
    start: 'admin-ready',
    async run(t) {
      const utc = t.utcNow();
      const set = expectOk(await t.request('TIME', [['utc', utc]]), { utc });
      expectKeys(set, ['utc'], 'TIME');
      const read = expectOk(await t.request('TIME'), { utc: UTC });
      const drift = Date.parse(read.fields.utc!) - Date.parse(utc);
      expectThat(
        drift >= 0 && drift <= t.options.timeoutMs + 2000,
        '§15 TIME: the clock runs on from the instant set',
        {
          expected: `about ${utc}`,
          got: read.fields.utc,
        },
      );
    },
  }),
  commands({
    name: 'time-invalid',
    section: '§15 TIME, D16',
    title: 'TIME with a malformed or impossible instant is 422 invalid-value key=utc',
    start: 'admin-ready',
    async run(t) {
      for (const utc of [
        '2025-02-30T00:00:00Z',
        '2023-02-29T00:00:00Z',
        '2025-03-14T24:00:00Z',
        '2025-03-14T09:26:60Z',
        '2025-03-14t09:26:53z',
        '2025-03-14T09:26:53',
        '2025-3-14T09:26:53Z',
        '2025-03-14 09:26:53Z',
      ])
        expectErr(
          await t.request('TIME', [['utc', utc]]),
          422,
          'invalid-value',
          { key: 'utc' },
          `utc=${utc}`,
        );
    },
  }),
];
