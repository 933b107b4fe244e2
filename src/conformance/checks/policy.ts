/**
 * docs/protocol.md §14 Password policy: each kind of weak password is 422 weak-password and
 * costs no attempt, and passwords just inside the rules are accepted (a terminal that refuses too
 * much breaks the policy as surely as one that refuses too little).
 */
import type { ValueInput } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk } from '../expect.js';
import { KNOWN_DEFAULTS, SUITE_ADMIN_PASSWORD } from '../spec.js';

const policy = (spec: Parameters<typeof check>[1]) => check('policy', spec);

/** An own PASSWD with the right old= and `candidate` as new=: must be refused as weak. */
async function refusedAsNew(t: Ctx, candidate: ValueInput, what: string): Promise<void> {
  const x = await t.request('PASSWD', [
    ['old', t.adminPassword],
    ['new', candidate],
  ]);
  expectErr(x, 422, 'weak-password', {}, what);
}

/** USER-ADD with `candidate` as password: must be refused as weak (no old= to compare, §15). */
async function refusedForOperator(t: Ctx, candidate: ValueInput, what: string): Promise<void> {
  const x = await t.request('USER-ADD', [
    ['id', '09'],
    ['name', 'Policy'],
    ['perms', 'sale'],
    ['password', candidate],
  ]);
  expectErr(x, 422, 'weak-password', {}, `USER-ADD, ${what}`);
}

/** USER-ADD of operator `id` with `candidate`: must be accepted. */
async function accepted(t: Ctx, id: string, candidate: ValueInput, what: string): Promise<void> {
  const x = await t.request('USER-ADD', [
    ['id', id],
    ['name', 'Policy'],
    ['perms', 'sale'],
    ['password', candidate],
  ]);
  expectOk(x, {}, `${what} is a good password`);
}

/** Nothing above cost an attempt or changed the admin password. */
async function nothingSpent(t: Ctx): Promise<void> {
  expectOk(await t.request('STATUS'), { attempts_left: '5' }, 'a weak password costs no attempt');
  expectOk(
    await t.request('LOGIN', [
      ['user', 'admin'],
      ['password', t.adminPassword],
    ]),
    {},
    'the admin password did not change',
  );
}

export const policyChecks: Check[] = [
  policy({
    name: 'length',
    section: '§14 rule 2',
    title: 'fewer than 6 or more than 32 characters is weak; 6 and 32 are fine',
    start: 'admin-ready',
    async run(t) {
      await refusedAsNew(t, 'Ab3.x', '5 characters');
      await refusedAsNew(t, `Ab3.${'x7'.repeat(14)}q`, '33 characters');
      await refusedForOperator(t, 'Ab3.x', '5 characters');
      await nothingSpent(t);
      await accepted(t, '11', 'Qz7.mK', '6 characters');
      await accepted(t, '12', `Qz7.${'mK'.repeat(14)}`, '32 characters');
    },
  }),
  policy({
    name: 'printable-only',
    section: '§14 rule 1',
    title: 'a byte outside 0x20-0x7E (TAB, UTF-8) is weak; a space is fine',
    start: 'admin-ready',
    async run(t) {
      await refusedAsNew(t, 'Abc\tdef1', 'a TAB');
      await refusedAsNew(t, 'Café.Pw-9', 'UTF-8 é');
      await refusedForOperator(t, 'Abc\u007fdef1', 'a DEL');
      await nothingSpent(t);
      await accepted(t, '13', 'Ab 3.x9k', 'a password with a space');
    },
  }),
  policy({
    name: 'known-defaults',
    section: '§14 rule 3',
    title: 'the known POS defaults 1234, 123456, 0000, 000000, 12345678 are weak',
    start: 'admin-ready',
    async run(t) {
      for (const candidate of KNOWN_DEFAULTS) await refusedAsNew(t, candidate, candidate);
      for (const candidate of KNOWN_DEFAULTS) await refusedForOperator(t, candidate, candidate);
      await nothingSpent(t);
    },
  }),
  policy({
    name: 'one-repeated-character',
    section: '§14 rule 4',
    title: 'one character repeated (aaaaaa, 777777, ........) is weak',
    start: 'admin-ready',
    async run(t) {
      for (const candidate of ['aaaaaa', '777777', '........', 'ZZZZZZZZZZZZ'])
        await refusedAsNew(t, candidate, candidate);
      await refusedForOperator(t, '999999', '999999');
      await nothingSpent(t);
      await accepted(t, '14', 'aaaaaab', 'aaaaaab (not one character)');
    },
  }),
  policy({
    name: 'straight-run-up',
    section: '§14 rule 5',
    title: 'a straight run upwards over the whole password (234567, abcdef, 3456789) is weak',
    start: 'admin-ready',
    async run(t) {
      for (const candidate of ['234567', 'abcdef', '3456789', 'ABCDEFGH', '-./0123'])
        await refusedAsNew(t, candidate, candidate);
      await refusedForOperator(t, 'bcdefg', 'bcdefg');
      await nothingSpent(t);
      await accepted(t, '15', '1234567a', '1234567a (a run over part of it)');
      await accepted(t, '16', 'abcdeg', 'abcdeg (one step of 2)');
    },
  }),
  policy({
    name: 'straight-run-down',
    section: '§14 rule 5',
    title: 'a straight run downwards (654321, fedcba, 9876543) is weak',
    start: 'admin-ready',
    async run(t) {
      for (const candidate of ['654321', 'fedcba', '9876543', 'zyxwvu'])
        await refusedAsNew(t, candidate, candidate);
      await refusedForOperator(t, '876543', '876543');
      await nothingSpent(t);
      await accepted(t, '17', '6543210x', '6543210x');
    },
  }),
  policy({
    name: 'same-as-old',
    section: '§14 rule 6, §15 PASSWD',
    title: 'new= equal to old= is weak, compared with the argument (even a wrong one), and costs no attempt',
    start: 'admin-ready',
    async run(t) {
      await refusedAsNew(t, SUITE_ADMIN_PASSWORD, 'new= equal to the right old=');
      expectErr(
        await t.request('PASSWD', [
          ['old', 'Wrong.Pw-77'],
          ['new', 'Wrong.Pw-77'],
        ]),
        422,
        'weak-password',
        {},
        'new= equal to a wrong old= (422 before 401)',
      );
      await nothingSpent(t);
    },
  }),
  policy({
    name: 'weak-before-wrong-old',
    section: '§15 PASSWD checks 5 and 7',
    title: 'a weak new= with a wrong old= is 422, not 401: no attempt spent',
    start: 'admin-ready',
    async run(t) {
      for (const candidate of ['123456', 'abcdef', 'aaaaaa', 'Ab3.x'])
        expectErr(
          await t.request('PASSWD', [
            ['old', 'Wrong.Pw-77'],
            ['new', candidate],
          ]),
          422,
          'weak-password',
          {},
          `new=${candidate} with a wrong old=`,
        );
      await nothingSpent(t);
    },
  }),
  policy({
    name: 'admin-sets-operator',
    section: '§14, §15 PASSWD, D11',
    title: "the admin setting an operator's password is held to the policy",
    start: 'admin-ready',
    async run(t) {
      for (const candidate of ['123456', 'abcdef', '11111111'])
        expectErr(
          await t.request('PASSWD', [
            ['user', '01'],
            ['new', candidate],
          ]),
          422,
          'weak-password',
          {},
          `PASSWD user=01 new=${candidate}`,
        );
      expectOk(await t.request('STATUS'), { factory_pw: '01' }, 'operator 01 kept its password');
    },
  }),
];
