/**
 * docs/protocol.md §10 and §11: every error, and when a request has several faults, the first of
 * 413, 400 (bytes), 460, 404, 400 (arguments), 401, 403, 428, 422, 423, 409 answers (D9, D27).
 * PASSWD's own order: errors-passwd.ts; which key a 400 names and what it may repeat:
 * errors-syntax.ts.
 */
import { appendCrc, crc16, formatCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import { expectErr, expectOk } from '../expect.js';
import { SUITE_ADMIN_PASSWORD, SUITE_MERCHANT, SUITE_TERMINAL } from '../spec.js';
import { badCrc, GOOD_NEW, raw } from './errors-shared.js';
import { withLockout } from './lockout-settings.js';

const errors = (spec: Parameters<typeof check>[1]) => check('errors', spec);

export const errorChecks: Check[] = [
  errors({
    name: 'unknown-command',
    section: '§10 step 4, §11, example 33',
    title: 'an unknown verb is 404 unknown-command, in any case',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const verb of ['FROB', 'frob', 'HELLOX', 'USER-FROB'])
        expectErr(await t.request(verb), 404, 'unknown-command', {}, verb);
    },
  }),
  errors({
    name: 'not-a-word',
    section: '§4, D7',
    title: 'a first token that is not a word (HELLO_X, 9X, -X) is 400, not 404',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const token of ['HELLO_X', '9X', '-X', 'HE"LLO'])
        await raw(t, appendCrc(`@${t.nextId()} ${token}`), 400, 'syntax', token);
    },
  }),
  errors({
    name: 'order-413-first',
    section: '§10, D27',
    title: '413 before everything: a line over 512 bytes with a bad byte, a bad CRC and an unknown verb',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await raw(
        t,
        badCrc(`@${t.nextId()} FROB\t${'x'.repeat(600)}`),
        413,
        'line-too-long',
        'all four faults',
      );
    },
  }),
  errors({
    name: 'order-bytes-before-460',
    section: '§10, D27',
    title: '400 (bytes) before 460 and 404',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await raw(t, badCrc(`@${t.nextId()} FROB\tx`), 400, 'syntax', 'a bad byte, a bad CRC, an unknown verb');
    },
  }),
  errors({
    name: 'order-460-before-404',
    section: '§10, D27, example 30',
    title: '460 before 404: a damaged line whose verb is no longer a command',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const id = t.nextId();
      const crcOfStatus = formatCrc(crc16(`@${id} STATUS`));
      await raw(t, `@${id} STATUR *${crcOfStatus}`, 460, 'bad-crc', 'STATUR with the CRC of STATUS');
      expectOk(await t.exchange(`@${id} STATUS *${crcOfStatus}`), {}, 'the line as it should have arrived');
    },
  }),
  errors({
    name: 'order-404-before-400',
    section: '§10, D9',
    title: '404 before 400 (arguments): a grammar error after an unknown verb',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await raw(t, appendCrc(`@${t.nextId()} FROB key= x="y`), 404, 'unknown-command', 'FROB key= x="y');
    },
  }),
  errors({
    name: 'order-404-before-401',
    section: '§10, D27',
    title: 'without a login, an unknown verb is 404, not 401',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.request('FROB'), 404, 'unknown-command');
      expectErr(
        await t.request('FROB', [['key', 'net.mode']]),
        404,
        'unknown-command',
        {},
        'with an argument',
      );
    },
  }),
  errors({
    name: 'order-400-before-401',
    section: '§10, D27',
    title: 'without a login, a missing, unknown or repeated argument is 400, not 401',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.request('GET'), 400, 'syntax', { key: 'key' }, 'GET without key=');
      expectErr(
        await t.request('GET', [
          ['key', 'net.mode'],
          ['extra', '1'],
        ]),
        400,
        'syntax',
        { key: 'extra' },
        'GET with an extra argument',
      );
      expectErr(
        await t.request('INIT', [['merchant', '1']]),
        400,
        'syntax',
        { key: 'terminal' },
        'INIT without terminal=',
      );
      expectErr(await t.request('RESET'), 400, 'syntax', { key: 'confirm' }, 'RESET without confirm=');
    },
  }),
  errors({
    name: 'order-401-before-422',
    section: '§10, D27',
    title: 'without a login, bad values get 401, not 422',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.request('GET', [['key', 'net.nope']]), 401, 'auth-required', {}, 'an unknown key');
      expectErr(
        await t.request('SET', [
          ['key', 'host.port'],
          ['value', '99999'],
        ]),
        401,
        'auth-required',
        {},
        'a bad value',
      );
      expectErr(
        await t.request('INIT', [
          ['merchant', '1'],
          ['terminal', '2'],
        ]),
        401,
        'auth-required',
        {},
        'bad numbers',
      );
      expectErr(await t.request('DIAG', [['checks', 'modem']]), 401, 'auth-required', {}, 'an unknown check');
      expectErr(
        await t.request('RESET', [['confirm', 'WRONG']]),
        401,
        'auth-required',
        {},
        'a wrong confirm',
      );
    },
  }),
  errors({
    name: 'order-403-before-428-and-422',
    section: '§10, §12, example 13',
    title: 'an operator who must change its password gets 403 for admin-only commands, before 428 and 422',
    start: 'operator-01',
    readOnly: true,
    async run(t) {
      expectErr(await t.request('GET', [['key', 'net.mode']]), 403, 'permission');
      expectErr(await t.request('GET', [['key', 'net.nope']]), 403, 'permission', {}, 'an unknown key');
      expectErr(
        await t.request('INIT', [
          ['merchant', '1'],
          ['terminal', '2'],
        ]),
        403,
        'permission',
        {},
        'bad numbers',
      );
    },
  }),
  errors({
    name: 'order-428-before-422',
    section: '§10, §12, example 12',
    title: 'the admin who must change its password gets 428, before 422',
    start: 'admin-must-change',
    readOnly: true,
    async run(t) {
      expectErr(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
        ]),
        428,
        'password-change-required',
      );
      expectErr(
        await t.request('GET', [['key', 'net.nope']]),
        428,
        'password-change-required',
        {},
        'an unknown key',
      );
      expectErr(
        await t.request('SET', [
          ['key', 'host.port'],
          ['value', '0'],
        ]),
        428,
        'password-change-required',
        {},
        'a bad value',
      );
    },
  }),
  errors({
    name: 'order-422-before-423',
    section: '§10, §15 PASSWD',
    title: 'while locked, a weak new password is 422 (not 423); a good one is 423',
    start: 'admin-ready',
    budgetMs: 30_000,
    async run(t) {
      await withLockout(t, { max: '1', seconds: '120' }, async () => {
        expectErr(
          await t.request('LOGIN', [
            ['user', 'admin'],
            ['password', 'Wrong.Pw-1'],
          ]),
          401,
          'bad-credentials',
          { remaining: '0' },
          'the failure that locks',
        );
        expectErr(
          await t.request('PASSWD', [
            ['old', SUITE_ADMIN_PASSWORD],
            ['new', '123456'],
          ]),
          422,
          'weak-password',
          {},
          'a weak new password while locked',
        );
        expectErr(
          await t.request('PASSWD', [
            ['old', SUITE_ADMIN_PASSWORD],
            ['new', GOOD_NEW],
          ]),
          423,
          'locked',
          { retry_after: /^[1-9][0-9]*$/ },
          'a good one while locked',
        );
      });
    },
  }),
  errors({
    name: 'order-422-before-409',
    section: '§10, D33',
    title: 'every 422 comes before 409 (INIT with other numbers, USER-ADD of an existing ID)',
    start: 'provisioned',
    async run(t) {
      expectErr(
        await t.request('INIT', [
          ['merchant', '104110058120002'],
          ['terminal', '1'],
        ]),
        422,
        'invalid-value',
        { key: 'terminal' },
        'INIT with other numbers and a bad terminal number',
      );
      expectErr(
        await t.request('USER-ADD', [
          ['id', '01'],
          ['name', 'X'],
          ['perms', 'sale'],
          ['password', '123456'],
        ]),
        422,
        'weak-password',
        {},
        'USER-ADD of 01 with a weak password',
      );
      expectErr(
        await t.request('USER-ADD', [
          ['id', '01'],
          ['name', ''],
          ['perms', 'sale'],
          ['password', GOOD_NEW],
        ]),
        422,
        'invalid-value',
        { key: 'name' },
        'USER-ADD of 01 with an empty name',
      );
    },
  }),
];
