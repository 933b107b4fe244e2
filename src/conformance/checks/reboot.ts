/**
 * docs/protocol.md §15 REBOOT, D19, D49: 503 not-ready while down (nothing stored), EVT boot when
 * back, logins and replay caches gone, everything persistent kept (the lockout count and lock too).
 */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import { SUITE_MERCHANT, SUITE_OPERATOR_PASSWORD, SUITE_TERMINAL } from '../spec.js';
import { rebootAndWait } from './events.js';
import { withLockout } from './lockout-settings.js';

const reboot = (spec: Parameters<typeof check>[1]) => check('reboot', spec);

const TEN_DAYS_MS = 10 * 24 * 3600 * 1000;

/** TIME reads within `slackMs` after `set` (the clock ran on from it). */
export async function expectClockNear(t: Ctx, set: string, slackMs: number, why: string): Promise<void> {
  const read = expectOk(await t.request('TIME'), {}, 'TIME').fields.utc ?? '';
  const drift = Date.parse(read) - Date.parse(set);
  expectThat(drift >= 0 && drift <= slackMs, why, {
    expected: `${set} or a little later`,
    got: `utc=${read}`,
  });
}

export const rebootChecks: Check[] = [
  reboot({
    name: 'not-ready-while-down',
    section: '§15 REBOOT, §8, D19, example 27',
    title: 'while down: 503 not-ready (not stored), 404 as usual; after EVT boot the same line runs',
    start: 'admin-ready',
    budgetMs: 90_000,
    async run(t) {
      expectOk(await t.request('REBOOT'));
      const status = t.line('STATUS');
      const down = await t.exchange(status);
      if (!t.takeEvent('boot')) {
        expectErr(down, 503, 'not-ready', {}, 'STATUS right after the OK of REBOOT');
        const frob = await t.request('FROB');
        if (!t.takeEvent('boot')) expectErr(frob, 404, 'unknown-command', {}, 'an unknown verb while down');
        const boot = await t.waitEvent('boot', t.config.rebootTimeoutMs);
        expectThat(boot.fields.sn === t.sn, '§9: EVT boot sn=', { got: boot.raw.text });
      }
      expectOk(
        await t.exchange(status),
        { login: 'none' },
        'the same STATUS line after EVT boot (503 is never stored)',
      );
    },
  }),
  reboot({
    name: 'login-and-replay-cache-gone',
    section: '§15 REBOOT, §8, D30',
    title: 'after REBOOT the login is gone and a retransmission executes anew (the replay cache was cleared)',
    start: 'admin-ready',
    budgetMs: 90_000,
    async run(t) {
      const set = t.line('SET', [
        ['key', 'net.apn'],
        ['value', 'before'],
      ]);
      expectOk(await t.exchange(set));
      await rebootAndWait(t);
      expectOk(await t.request('STATUS'), { login: 'none', must_change: '0' });
      expectErr(
        await t.exchange(set),
        401,
        'auth-required',
        {},
        'the SET sent again after the reboot: executed, not replayed',
      );
    },
  }),
  reboot({
    name: 'persistent-state-kept',
    section: '§15 REBOOT, D49',
    title: 'REBOOT keeps passwords, numbers, name, settings, operators, the failure count and the clock',
    start: 'admin-ready',
    budgetMs: 90_000,
    async run(t) {
      await t.ok('INIT', [
        ['merchant', SUITE_MERCHANT],
        ['terminal', SUITE_TERMINAL],
        ['name', 'Kept'],
      ]);
      const past = t.utcNow(-TEN_DAYS_MS);
      await t.ok('TIME', [['utc', past]]);
      const setAt = t.config.now();
      await t.set('host.addr', '10.1.2.3');
      await t.set('support.phone', '+86-10-1234');
      await t.set('lockout.max', '4');
      await t.ok('USER-ADD', [
        ['id', '02'],
        ['name', 'Kept'],
        ['perms', 'sale'],
        ['password', SUITE_OPERATOR_PASSWORD],
      ]);
      expectErr(
        await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', 'Wrong.Pw-1'],
        ]),
        401,
        'bad-credentials',
        { remaining: '3' },
      );
      await rebootAndWait(t);
      expectOk(await t.request('STATUS'), {
        state: 'initialized',
        login: 'none',
        locked: '0',
        attempts_left: '3',
        factory_pw: '01',
        merchant: SUITE_MERCHANT,
        terminal: SUITE_TERMINAL,
        name: 'Kept',
      });
      await t.loginAdmin();
      for (const [key, value] of [
        ['host.addr', '10.1.2.3'],
        ['support.phone', '+86-10-1234'],
        ['lockout.max', '4'],
      ])
        expectOk(await t.request('GET', [['key', key!]]), { value: value! }, `GET ${key}`);
      const list = await t.request('USER-LIST');
      expectOk(list, { count: '2' }, 'operators 01 and 02');
      await expectClockNear(
        t,
        past,
        t.config.now() - setAt + 5000,
        'D49: the clock keeps running through REBOOT',
      );
      const clock = await t.diag([['checks', 'clock']]);
      expectThat(clock.data[0]?.fields.code !== 'not_set', 'D49: the clock stays set through REBOOT', {
        x: clock,
      });
      await t.ok('TIME', [['utc', t.utcNow()]]);
    },
  }),
  reboot({
    name: 'lock-kept',
    section: '§13, §15 REBOOT, D49',
    title: 'a lock survives REBOOT (423 after the boot) and still ends on time',
    start: 'admin-ready',
    budgetMs: 180_000,
    async run(t) {
      // The lock must outlast the reboot: half as long again as a reboot took here, and a second.
      if (t.lastRebootMs === undefined) {
        await rebootAndWait(t);
        await t.loginAdmin();
      }
      const seconds = String(Math.ceil((t.lastRebootMs! * 1.5) / 1000) + 1);
      await withLockout(t, { max: '1', seconds }, async () => {
        expectErr(
          await t.request('LOGIN', [
            ['user', 'admin'],
            ['password', 'Wrong.Pw-1'],
          ]),
          401,
          'bad-credentials',
          { remaining: '0' },
        );
        await rebootAndWait(t);
        expectOk(
          await t.request('STATUS'),
          { locked: '1', attempts_left: '0', login: 'none' },
          'after the boot',
        );
        const locked = await t.request('LOGIN', [
          ['user', 'admin'],
          ['password', t.adminPassword],
        ]);
        const left = Number(
          expectErr(locked, 423, 'locked', {}, 'the right password after the boot').fields.retry_after,
        );
        expectThat(left >= 1 && left <= Number(seconds), '§13: retry_after is the time left of the lock', {
          expected: `1 to ${seconds}`,
          got: locked.final.raw.text,
        });
        await t.sleep(left * 1000 + 300);
        await t.loginAdmin();
      });
    },
  }),
];
