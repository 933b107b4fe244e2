/**
 * docs/protocol.md §15 RESET: confirm= must be the serial number; then factory state again
 * (passwords, operators, settings, numbers, the lockout count and lock), every login ended, every
 * replay cache emptied, and the clock kept.
 */
import { encodeValue } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import {
  CAPS,
  FACTORY_ADMIN_PASSWORD,
  FACTORY_OPERATOR_NAME,
  FACTORY_OPERATOR_PASSWORD,
  FACTORY_SETTINGS,
  PERMS,
  SUITE_ADMIN_PASSWORD,
  SUITE_OPERATOR_PASSWORD,
} from '../spec.js';
import { expectClockNear } from './reboot.js';

const reset = (spec: Parameters<typeof check>[1]) => check('reset', spec);

const TEN_DAYS_MS = 10 * 24 * 3600 * 1000;

async function resetNow(t: Ctx): Promise<void> {
  expectOk(await t.request('RESET', [['confirm', t.sn]]));
  t.adminPassword = FACTORY_ADMIN_PASSWORD;
}

/** From factory state: the admin logged in with its password replaced (RESET and TIME need it). */
async function adminAgain(t: Ctx): Promise<void> {
  expectOk(
    await t.request('LOGIN', [
      ['user', 'admin'],
      ['password', FACTORY_ADMIN_PASSWORD],
    ]),
    { must_change: '1' },
    'the factory admin password after RESET',
  );
  await t.ok('PASSWD', [
    ['old', FACTORY_ADMIN_PASSWORD],
    ['new', SUITE_ADMIN_PASSWORD],
  ]);
  t.adminPassword = SUITE_ADMIN_PASSWORD;
}

export const resetChecks: Check[] = [
  reset({
    name: 'wrong-confirm',
    section: '§15 RESET, example 28',
    title:
      'RESET with a confirm= that is not the serial number is 422 invalid-value key=confirm and resets nothing',
    start: 'provisioned',
    async run(t) {
      for (const confirm of [
        `${t.sn}X`,
        t.sn.slice(0, -1),
        t.sn.toLowerCase() === t.sn ? `X${t.sn}` : t.sn.toLowerCase(),
      ])
        expectErr(
          await t.request('RESET', [['confirm', confirm]]),
          422,
          'invalid-value',
          { key: 'confirm' },
          `confirm=${confirm}`,
        );
      expectOk(await t.request('STATUS'), { state: 'initialized', login: 'admin' }, 'nothing was reset');
    },
  }),
  reset({
    name: 'factory-state-again',
    section: '§15 RESET, §12, §16',
    title: 'after RESET: factory STATUS, HELLO state=factory, factory passwords, operators and settings',
    start: 'provisioned',
    async run(t) {
      await t.ok('USER-ADD', [
        ['id', '02'],
        ['name', 'Gone'],
        ['perms', 'sale'],
        ['password', SUITE_OPERATOR_PASSWORD],
      ]);
      await t.ok('PASSWD', [
        ['user', '01'],
        ['new', SUITE_OPERATOR_PASSWORD],
      ]);
      await t.set('net.mode', 'wifi');
      await t.set('settle.account', '6222020200112233445');
      await t.set('lockout.max', '7');
      expectErr(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', 'Wrong.Pw-1'],
        ]),
        401,
        'bad-credentials',
      );
      await resetNow(t);
      expectOk(await t.request('STATUS'), {
        state: 'factory',
        login: 'none',
        must_change: '0',
        locked: '0',
        attempts_left: '5',
        tamper: '0',
        factory_pw: 'admin,01',
        merchant: null,
        terminal: null,
        name: null,
      });
      expectOk(await t.request('HELLO'), { state: 'factory', caps: CAPS });
      expectOk(
        await t.request('LOGIN', [
          ['user', '01'],
          ['password', FACTORY_OPERATOR_PASSWORD],
        ]),
        { must_change: '1' },
        "operator 01's factory password",
      );
      await adminAgain(t);
      for (const [key, value] of Object.entries(FACTORY_SETTINGS))
        expectOk(
          await t.request('GET', [['key', key]]),
          { value: { written: encodeValue(value) } },
          `GET ${key}`,
        );
      const list = await t.request('USER-LIST');
      expectOk(list, { count: '1' }, 'operator 01 only');
      const op = list.data[0]?.fields;
      expectThat(
        op?.id === '01' &&
          op.name === FACTORY_OPERATOR_NAME &&
          op.perms === PERMS.join(',') &&
          op.must_change === '1',
        '§12: operator 01 as it left the factory',
        { got: list.data[0]?.raw.text },
      );
    },
  }),
  reset({
    name: 'logins-ended',
    section: '§15 RESET, §12',
    title: "RESET ends every login, the requester's too",
    start: 'admin-ready',
    async run(t) {
      await resetNow(t);
      expectOk(await t.request('STATUS'), { login: 'none', must_change: '0' });
      expectErr(await t.request('GET', [['key', 'net.mode']]), 401, 'auth-required');
    },
  }),
  reset({
    name: 'replay-cache-emptied',
    section: '§15 RESET, §8, D30',
    title: 'a retransmitted RESET gets 401 auth-required: its own reply was not kept',
    start: 'admin-ready',
    async run(t) {
      const line = t.line('RESET', [['confirm', t.sn]]);
      expectOk(await t.exchange(line));
      t.adminPassword = FACTORY_ADMIN_PASSWORD;
      expectErr(await t.exchange(line), 401, 'auth-required', {}, 'the same RESET line again');
    },
  }),
  reset({
    name: 'lock-cleared',
    section: '§15 RESET, §13',
    title: 'RESET clears the lockout count and a running lock',
    start: 'admin-ready',
    async run(t) {
      await t.set('lockout.seconds', '600');
      await t.set('lockout.max', '1');
      expectErr(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', 'Wrong.Pw-1'],
        ]),
        401,
        'bad-credentials',
        { remaining: '0' },
      );
      expectOk(await t.request('STATUS'), { locked: '1' });
      await resetNow(t);
      expectOk(await t.request('STATUS'), { locked: '0', attempts_left: '5' });
      expectOk(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', FACTORY_ADMIN_PASSWORD],
        ]),
        { must_change: '1' },
      );
    },
  }),
  reset({
    name: 'clock-kept',
    section: '§15 RESET, §15 TIME, D49',
    title: 'RESET keeps the clock, and that it was set',
    start: 'admin-ready',
    async run(t) {
      const past = t.utcNow(-TEN_DAYS_MS);
      await t.ok('TIME', [['utc', past]]);
      const setAt = t.config.now();
      await resetNow(t);
      await adminAgain(t);
      await expectClockNear(
        t,
        past,
        t.config.now() - setAt + 5000,
        '§15 RESET: the clock runs on through RESET',
      );
      const clock = await t.diag([['checks', 'clock']]);
      expectThat(
        clock.data[0]?.fields.code !== 'not_set',
        '§15 TIME: RESET keeps whether the clock was set',
        { x: clock },
      );
      await t.ok('TIME', [['utc', t.utcNow()]]);
    },
  }),
];
