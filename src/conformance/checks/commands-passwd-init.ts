/** docs/protocol.md §15 PASSWD and INIT (and §12: passwords, must_change, factory_pw). */
import { type Check, check } from '../check.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import {
  FACTORY_ADMIN_PASSWORD,
  SUITE_ADMIN_PASSWORD,
  SUITE_ADMIN_PASSWORD_2,
  SUITE_MERCHANT,
  SUITE_TERMINAL,
} from '../spec.js';
import { expectLoginWorks } from './commands.js';
import { expectKeys, expectStatusShape } from './shapes.js';

const commands = (spec: Parameters<typeof check>[1]) => check('commands', spec);

export const passwdInitChecks: Check[] = [
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
];
