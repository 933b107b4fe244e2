/**
 * docs/protocol.md §12 (D52): anyone may run HELLO, STATUS, LOGIN and LOGOUT; an operator may
 * also change its own password; every other command is admin-only: 401 without a login, 403 for
 * an operator (before 428), 428 while the admin must change its password.
 */
import type { ValueInput } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk } from '../expect.js';
import {
  ADMIN_ONLY_REQUESTS,
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_PASSWORD,
  SUITE_OPERATOR_PASSWORD,
  SUITE_OPERATOR_PASSWORD_2,
} from '../spec.js';

const auth = (spec: Parameters<typeof check>[1]) => check('auth', spec);

/** Each admin-only command, with valid arguments, must get `code reason`. */
async function everyAdminOnly(t: Ctx, code: number, reason: string): Promise<void> {
  for (const [verb, fields] of ADMIN_ONLY_REQUESTS) {
    const args = fields.map(([key, value]) => [key, value === '{sn}' ? t.sn : value] as [string, ValueInput]);
    expectErr(await t.request(verb, args), code, reason, {}, verb);
  }
}

export const authChecks: Check[] = [
  auth({
    name: 'public-commands',
    section: '§12, D52',
    title: 'HELLO, STATUS and LOGOUT run without a login',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('HELLO'), { proto: '1' });
      expectOk(await t.request('STATUS'), { login: 'none' });
      expectOk(await t.request('LOGOUT'));
    },
  }),
  auth({
    name: 'admin-only-401-without-login',
    section: '§12, §10 step 9, D52, example 14',
    title: 'without a login every admin-only command, and PASSWD, is 401 auth-required',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await everyAdminOnly(t, 401, 'auth-required');
      expectErr(
        await t.request('PASSWD', [
          ['old', FACTORY_ADMIN_PASSWORD],
          ['new', 'Good.Pw-742'],
        ]),
        401,
        'auth-required',
        {},
        'PASSWD',
      );
    },
  }),
  auth({
    name: 'operator-403',
    section: '§12, D52, example 13',
    title: 'an operator gets 403 for every admin-only command, before and after changing its password',
    start: 'operator-01',
    async run(t) {
      await everyAdminOnly(t, 403, 'permission');
      expectOk(
        await t.request('PASSWD', [
          ['old', FACTORY_OPERATOR_PASSWORD],
          ['new', SUITE_OPERATOR_PASSWORD],
        ]),
        {},
        'its own PASSWD',
      );
      await everyAdminOnly(t, 403, 'permission');
    },
  }),
  auth({
    name: 'operator-own-password',
    section: '§12, §15 PASSWD, D11',
    title: 'an operator changes its own password (user= its own ID too); must_change and factory_pw follow',
    start: 'operator-01',
    async run(t) {
      expectOk(
        await t.request('PASSWD', [
          ['old', FACTORY_OPERATOR_PASSWORD],
          ['new', SUITE_OPERATOR_PASSWORD],
        ]),
      );
      expectOk(await t.request('STATUS'), { login: '01', must_change: '0', factory_pw: 'admin' });
      expectOk(
        await t.request('PASSWD', [
          ['user', '01'],
          ['old', SUITE_OPERATOR_PASSWORD],
          ['new', SUITE_OPERATOR_PASSWORD_2],
        ]),
        {},
        'user= its own ID',
      );
      expectOk(
        await t.request('LOGIN', [
          ['user', '01'],
          ['password', SUITE_OPERATOR_PASSWORD_2],
        ]),
        { user: '01', must_change: '0' },
      );
    },
  }),
  auth({
    name: 'admin-428-while-must-change',
    section: '§12, §10 step 9, example 12',
    title: 'the admin with its factory password gets 428 for admin-only commands; HELLO, STATUS, LOGIN run',
    start: 'admin-must-change',
    readOnly: true,
    async run(t) {
      await everyAdminOnly(t, 428, 'password-change-required');
      expectOk(await t.request('HELLO'));
      expectOk(await t.request('STATUS'), { login: 'admin', must_change: '1' });
      expectOk(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', FACTORY_ADMIN_PASSWORD],
        ]),
        { must_change: '1' },
      );
    },
  }),
  auth({
    name: 'failed-login-keeps-login',
    section: '§12, §15 LOGIN, example 40',
    title: 'a failed LOGIN leaves the current login as it was',
    start: 'admin-ready',
    async run(t) {
      expectErr(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', 'Wrong.Pw-1'],
        ]),
        401,
        'bad-credentials',
      );
      expectErr(
        await t.request('LOGIN', [
          ['user', '01'],
          ['password', 'Wrong.Pw-1'],
        ]),
        401,
        'bad-credentials',
      );
      expectOk(await t.request('STATUS'), { login: 'admin' });
      expectOk(await t.request('GET', [['key', 'net.mode']]), {}, 'the admin still runs admin-only commands');
    },
  }),
  auth({
    name: 'login-replaces-login',
    section: '§12, D28',
    title: "a successful LOGIN replaces the connection's login; STATUS must_change is that of the login",
    start: 'admin-ready',
    async run(t) {
      expectOk(await t.request('STATUS'), { login: 'admin', must_change: '0' });
      await t.ok('LOGIN', [
        ['user', '01'],
        ['password', FACTORY_OPERATOR_PASSWORD],
      ]);
      expectOk(await t.request('STATUS'), { login: '01', must_change: '1' });
      expectErr(await t.request('GET', [['key', 'net.mode']]), 403, 'permission', {}, 'now an operator');
      await t.ok('LOGOUT');
      expectOk(await t.request('STATUS'), { login: 'none', must_change: '0' }, 'without a login');
    },
  }),
];
