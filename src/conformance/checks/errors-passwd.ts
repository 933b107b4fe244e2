/**
 * docs/protocol.md §15 PASSWD: its own order of checks (1 syntax, 2 login and permission,
 * 3 confirm, 4 unknown user, 5 policy, 6 lock, 7 the old password), D31 and D44.
 */
import { type Check, check } from '../check.js';
import { expectErr, expectOk } from '../expect.js';
import { GOOD_NEW } from './errors-shared.js';

const errors = (spec: Parameters<typeof check>[1]) => check('errors', spec);

export const passwdOrderChecks: Check[] = [
  errors({
    name: 'passwd-order-without-login',
    section: '§15 PASSWD checks 1-2, D31, D44',
    title: 'PASSWD without a login: a missing old= or new= is 400 (key named) before 401',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.request('PASSWD', [['new', GOOD_NEW]]), 400, 'syntax', { key: 'old' }, 'no old=');
      expectErr(
        await t.request('PASSWD', [
          ['user', '02'],
          ['new', GOOD_NEW],
        ]),
        400,
        'syntax',
        { key: 'old' },
        'user=02, no old=',
      );
      expectErr(await t.request('PASSWD', [['old', 'x']]), 400, 'syntax', { key: 'new' }, 'no new=');
      expectErr(
        await t.request('PASSWD'),
        400,
        'syntax',
        { key: 'new' },
        'neither (new= is named first, D44)',
      );
      expectErr(
        await t.request('PASSWD', [
          ['old', 'x'],
          ['new', GOOD_NEW],
          ['bogus', '1'],
        ]),
        400,
        'syntax',
        { key: null },
        'an unknown argument (§10 step 5: not named in a line that may hold a secret)',
      );
      expectErr(
        await t.request('PASSWD', [
          ['old', 'Wrong.Pw-1'],
          ['new', GOOD_NEW],
        ]),
        401,
        'auth-required',
        {},
        'well-formed',
      );
      expectOk(await t.request('STATUS'), { attempts_left: '5' }, 'none of these cost an attempt');
    },
  }),
  errors({
    name: 'passwd-order-operator',
    section: '§15 PASSWD checks 1-2, D31, example 13',
    title: 'an operator: no old= is 400 key=old; naming any other account is 403',
    start: 'operator-01',
    readOnly: true,
    async run(t) {
      expectErr(
        await t.request('PASSWD', [
          ['user', 'admin'],
          ['new', GOOD_NEW],
        ]),
        400,
        'syntax',
        { key: 'old' },
        'user=admin, no old=',
      );
      expectErr(
        await t.request('PASSWD', [
          ['user', 'admin'],
          ['old', '123456'],
          ['new', GOOD_NEW],
        ]),
        403,
        'permission',
        {},
        'user=admin',
      );
      expectErr(
        await t.request('PASSWD', [
          ['user', '02'],
          ['old', '123456'],
          ['new', GOOD_NEW],
        ]),
        403,
        'permission',
        {},
        'user=02 (no such operator)',
      );
      expectErr(
        await t.request('PASSWD', [
          ['user', 'x9'],
          ['old', '123456'],
          ['new', '123456'],
        ]),
        403,
        'permission',
        {},
        'a malformed user= with a weak new=',
      );
      expectOk(
        await t.request('STATUS'),
        { attempts_left: '5', login: '01' },
        'none of these cost an attempt',
      );
    },
  }),
  errors({
    name: 'passwd-order-admin',
    section: '§15 PASSWD checks 3-7',
    title:
      'the admin: confirm (422), then unknown-user, then weak-password, then the old password (401, counted)',
    start: 'admin-ready',
    async run(t) {
      expectErr(
        await t.request('PASSWD', [
          ['user', '77'],
          ['new', GOOD_NEW],
          ['confirm', 'Other.Pw-9'],
        ]),
        422,
        'invalid-value',
        { key: 'confirm' },
        'confirm differs, for an operator that does not exist',
      );
      expectErr(
        await t.request('PASSWD', [
          ['user', '77'],
          ['new', '123456'],
        ]),
        422,
        'unknown-user',
        {},
        'user=77, weak',
      );
      expectErr(
        await t.request('PASSWD', [
          ['user', 'abc'],
          ['new', GOOD_NEW],
        ]),
        422,
        'unknown-user',
        {},
        'user=abc',
      );
      expectErr(
        await t.request('PASSWD', [
          ['old', 'Wrong.Pw-1'],
          ['new', '654321'],
        ]),
        422,
        'weak-password',
        {},
        'a wrong old= and a weak new=',
      );
      expectOk(await t.request('STATUS'), { attempts_left: '5' }, 'no attempt spent so far');
      expectErr(
        await t.request('PASSWD', [
          ['old', 'Wrong.Pw-1'],
          ['new', GOOD_NEW],
        ]),
        401,
        'bad-credentials',
        { remaining: '4' },
        'a wrong old=',
      );
    },
  }),
];
