/** docs/protocol.md §15 USER-ADD, USER-SET, USER-DEL, USER-LIST (and §12 accounts). */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import type { TspLine } from '../lines.js';
import { FACTORY_OPERATOR_NAME, PERMS, SUITE_OPERATOR_PASSWORD } from '../spec.js';
import { expectKeys } from './shapes.js';

const commands = (spec: Parameters<typeof check>[1]) => check('commands', spec);

const ALL_PERMS = PERMS.join(',');

interface Operator {
  id: string;
  name: string;
  perms: string;
  must_change: string;
}

/** USER-LIST: its DATA lines as operators, checked against `OK count=`. */
async function userList(t: Ctx): Promise<Operator[]> {
  const x = await t.request('USER-LIST');
  const ok = expectOk(x, { count: String(x.data.length) }, 'USER-LIST count= is the number of DATA lines');
  expectKeys(ok, ['count'], 'USER-LIST OK');
  return x.data.map((line: TspLine) => {
    expectKeys(line, ['id', 'name', 'perms', 'must_change'], 'USER-LIST DATA');
    return line.fields as unknown as Operator;
  });
}

function expectOperators(got: Operator[], want: Operator[], what: string): void {
  const show = (list: Operator[]) =>
    list.map((o) => `${o.id} "${o.name}" ${o.perms} must_change=${o.must_change}`).join('; ') || 'none';
  expectThat(show(got) === show(want), what, { expected: show(want), got: show(got) });
}

const initial: Operator = { id: '01', name: FACTORY_OPERATOR_NAME, perms: ALL_PERMS, must_change: '1' };

export const userChecks: Check[] = [
  commands({
    name: 'user-add-and-list',
    section: '§15 USER-ADD, USER-LIST, D14, D37, example 22',
    title:
      'USER-ADD creates an operator that must change its password; USER-LIST lists them by ID, perms in canonical order',
    start: 'admin-ready',
    async run(t) {
      expectOperators(await userList(t), [initial], '§12: a factory terminal has operator 01 only');
      expectOk(
        await t.request('USER-ADD', [
          ['id', '07'],
          ['name', 'Night shift'],
          ['perms', 'settings,query,sale'],
          ['password', SUITE_OPERATOR_PASSWORD],
        ]),
      );
      expectOk(
        await t.request('USER-ADD', [
          ['id', '03'],
          ['name', 'Café'],
          ['perms', 'refund'],
          ['password', SUITE_OPERATOR_PASSWORD],
        ]),
      );
      expectOperators(
        await userList(t),
        [
          initial,
          { id: '03', name: 'Café', perms: 'refund', must_change: '1' },
          { id: '07', name: 'Night shift', perms: 'sale,query,settings', must_change: '1' },
        ],
        '§15 USER-LIST: ascending IDs, permissions in canonical order, must_change=1',
      );
      expectErr(
        await t.request('USER-ADD', [
          ['id', '07'],
          ['name', 'Other'],
          ['perms', 'sale'],
          ['password', SUITE_OPERATOR_PASSWORD],
        ]),
        409,
        'exists',
        {},
        'an existing ID',
      );
      await t.ok('LOGOUT');
      const login = await t.request('LOGIN', [
        ['user', '07'],
        ['password', SUITE_OPERATOR_PASSWORD],
      ]);
      expectOk(
        login,
        { user: '07', must_change: '1' },
        'the new operator logs in and must change its password',
      );
    },
  }),
  commands({
    name: 'user-add-values',
    section: '§15 USER-ADD, D13, D14, D33',
    title: 'USER-ADD checks id (01-99), name (1-32 bytes), perms, password, in that order',
    start: 'admin-ready',
    async run(t) {
      const good = { id: '05', name: 'Cashier', perms: 'sale', password: SUITE_OPERATOR_PASSWORD };
      const cases: Array<[string, Partial<typeof good>, string]> = [
        ['id=1', { id: '1' }, 'id'],
        ['id=00', { id: '00' }, 'id'],
        ['id=100', { id: '100' }, 'id'],
        ['id=ab', { id: 'ab' }, 'id'],
        ['an empty name', { name: '' }, 'name'],
        ['a 33-byte name', { name: 'n'.repeat(33) }, 'name'],
        ['empty perms', { perms: '' }, 'perms'],
        ['a repeated permission', { perms: 'sale,sale' }, 'perms'],
        ['an unknown permission', { perms: 'sale,void' }, 'perms'],
        ['an empty permission', { perms: 'sale,,query' }, 'perms'],
        ['id before name', { id: '1', name: '' }, 'id'],
        ['name before perms', { name: '', perms: 'void' }, 'name'],
      ];
      for (const [what, change, key] of cases) {
        const fields = Object.entries({ ...good, ...change });
        expectErr(await t.request('USER-ADD', fields), 422, 'invalid-value', { key }, what);
      }
      expectErr(
        await t.request('USER-ADD', Object.entries({ ...good, perms: 'void', password: '123456' })),
        422,
        'invalid-value',
        { key: 'perms' },
        'perms before password',
      );
      expectErr(
        await t.request('USER-ADD', Object.entries({ ...good, password: '123456' })),
        422,
        'weak-password',
        {},
        'a weak password',
      );
      expectOperators(await userList(t), [initial], 'no refused USER-ADD created anything');
      expectOk(
        await t.request('USER-ADD', Object.entries({ ...good, name: 'n'.repeat(32) })),
        {},
        'a 32-byte name',
      );
    },
  }),
  commands({
    name: 'user-set',
    section: '§15 USER-SET, D13',
    title:
      'USER-SET changes name and perms; with neither it changes nothing; unknown or malformed IDs are 422',
    start: 'admin-ready-operator-02',
    async run(t) {
      expectOk(
        await t.request('USER-SET', [
          ['id', '02'],
          ['name', 'Day shift'],
        ]),
      );
      expectOk(
        await t.request('USER-SET', [
          ['id', '02'],
          ['perms', 'refund,sale'],
        ]),
      );
      expectOk(await t.request('USER-SET', [['id', '02']]), {}, 'neither name nor perms');
      expectOperators(
        await userList(t),
        [initial, { id: '02', name: 'Day shift', perms: 'sale,refund', must_change: '1' }],
        '§15 USER-SET: the name and the perms (canonical order) changed, nothing else',
      );
      expectErr(
        await t.request('USER-SET', [
          ['id', '09'],
          ['name', 'X'],
        ]),
        422,
        'unknown-user',
        {},
        'id=09',
      );
      expectErr(
        await t.request('USER-SET', [
          ['id', '2'],
          ['name', 'X'],
        ]),
        422,
        'invalid-value',
        { key: 'id' },
        'id=2',
      );
      expectErr(
        await t.request('USER-SET', [
          ['id', '09'],
          ['perms', 'void'],
        ]),
        422,
        'unknown-user',
        {},
        'the id exists before perms are checked (D33)',
      );
      expectErr(
        await t.request('USER-SET', [
          ['id', '02'],
          ['perms', 'void'],
        ]),
        422,
        'invalid-value',
        { key: 'perms' },
      );
      expectErr(
        await t.request('USER-SET', [
          ['id', '02'],
          ['name', ''],
        ]),
        422,
        'invalid-value',
        { key: 'name' },
      );
    },
  }),
  commands({
    name: 'user-del',
    section: '§15 USER-DEL, USER-LIST, D12, D13, D37',
    title: 'USER-DEL removes operators, 01 included (factory_pw drops it); USER-LIST of none is OK count=0',
    start: 'admin-ready-operator-02',
    async run(t) {
      expectOk(await t.request('USER-DEL', [['id', '02']]));
      expectErr(await t.request('USER-DEL', [['id', '02']]), 422, 'unknown-user', {}, 'deleted already');
      expectErr(await t.request('USER-DEL', [['id', 'x1']]), 422, 'invalid-value', { key: 'id' }, 'id=x1');
      expectOk(await t.request('USER-DEL', [['id', '01']]), {}, 'operator 01');
      expectOk(await t.request('STATUS'), { factory_pw: 'none' }, 'deleting 01 removes it from factory_pw');
      const x = await t.request('USER-LIST');
      expectOk(x, { count: '0' });
      expectThat(x.data.length === 0, '§15 USER-LIST: no DATA line when there is no operator', { x });
      expectOk(
        await t.request('USER-ADD', [
          ['id', '01'],
          ['name', 'Again'],
          ['perms', 'sale'],
          ['password', SUITE_OPERATOR_PASSWORD],
        ]),
      );
      expectOk(
        await t.request('STATUS'),
        { factory_pw: 'none' },
        'a re-created 01 holds no factory password (§12)',
      );
    },
  }),
];
