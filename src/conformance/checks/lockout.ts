/**
 * docs/protocol.md §13 Lockout, with the terminal's own lockout.* settings made small (a lock in
 * one to three failures, lasting a second or two) and put back afterwards. The admin stays logged
 * in throughout: a failed LOGIN leaves the login as it was, and an existing login keeps working
 * while locked.
 */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import type { TspLine } from '../lines.js';
import { FACTORY_OPERATOR_PASSWORD, SUITE_ADMIN_PASSWORD, SUITE_ADMIN_PASSWORD_2 } from '../spec.js';
import { withLockout } from './lockout-settings.js';

const lockout = (spec: Parameters<typeof check>[1]) => check('lockout', spec);

const WRONG = 'Wrong.Pw-1';
const POSITIVE = /^[1-9][0-9]*$/;

function wrongLogin(t: Ctx, user = 'admin') {
  return t.request('LOGIN', [
    ['user', user],
    ['password', WRONG],
  ]);
}

function rightLogin(t: Ctx) {
  return t.request('LOGIN', [
    ['user', 'admin'],
    ['password', t.adminPassword],
  ]);
}

function seconds(line: TspLine, key: string): number {
  return Number(line.fields[key]);
}

/** The failure that reaches lockout.max: 401 remaining=0, then EVT lockout retry_after=S (1 <= S <= max). */
async function lockNow(t: Ctx, lockSeconds: number, user = 'admin'): Promise<void> {
  expectErr(await wrongLogin(t, user), 401, 'bad-credentials', { remaining: '0' }, 'the failure that locks');
  const event = await t.waitEvent('lockout', t.options.timeoutMs);
  const s = seconds(event, 'retry_after');
  expectThat(
    POSITIVE.test(event.fields.retry_after ?? '') && s <= lockSeconds,
    `§13: EVT lockout carries retry_after=S, 1 to lockout.seconds (${lockSeconds})`,
    { got: event.raw.text },
  );
}

export const lockoutChecks: Check[] = [
  lockout({
    name: 'remaining-counts-down',
    section: '§13, D10',
    title:
      'each failure (a wrong password, an unknown user) answers remaining=N; attempts_left follows; a success resets it',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '3', seconds: '2' }, async () => {
        expectOk(
          await t.request('STATUS'),
          { attempts_left: '3', locked: '0' },
          'lockout.max=3 shows at once',
        );
        expectErr(await wrongLogin(t), 401, 'bad-credentials', { remaining: '2' });
        expectOk(await t.request('STATUS'), { attempts_left: '2' });
        expectErr(await wrongLogin(t, '07'), 401, 'bad-credentials', { remaining: '1' }, 'an unknown user');
        expectOk(await t.request('STATUS'), { attempts_left: '1', login: 'admin' });
        expectOk(await rightLogin(t), {}, 'the right password');
        expectOk(await t.request('STATUS'), { attempts_left: '3' }, 'a success resets the count');
      });
    },
  }),
  lockout({
    name: 'locks-at-max',
    section: '§13, §9, example 10',
    title:
      'the failure that reaches lockout.max answers remaining=0 and sends EVT lockout; STATUS locked=1 attempts_left=0',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '2', seconds: '30' }, async () => {
        expectErr(await wrongLogin(t), 401, 'bad-credentials', { remaining: '1' });
        await lockNow(t, 30);
        expectOk(await t.request('STATUS'), { locked: '1', attempts_left: '0' });
      });
    },
  }),
  lockout({
    name: 'locked-423',
    section: '§13, §10 step 11',
    title:
      'while locked, LOGIN (right or wrong, any user) and PASSWD with old= get 423 retry_after, which neither counts nor extends the lock',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '1', seconds: '30' }, async () => {
        await lockNow(t, 30);
        const first = expectErr(
          await rightLogin(t),
          423,
          'locked',
          { retry_after: POSITIVE },
          'the right password',
        );
        let last = seconds(first, 'retry_after');
        expectThat(last <= 30, '§13: retry_after is the time left, at most lockout.seconds', {
          got: first.raw.text,
        });
        for (const [what, x] of [
          ['a wrong password', await wrongLogin(t)],
          ['operator 01', await wrongLogin(t, '01')],
          [
            'PASSWD with the right old=',
            await t.request('PASSWD', [
              ['old', SUITE_ADMIN_PASSWORD],
              ['new', SUITE_ADMIN_PASSWORD_2],
            ]),
          ],
        ] as const) {
          const err = expectErr(x, 423, 'locked', { retry_after: POSITIVE }, what);
          expectThat(seconds(err, 'retry_after') <= last, '§13: a 423 does not extend the lock', {
            expected: `retry_after <= ${last}`,
            got: err.raw.text,
          });
          last = seconds(err, 'retry_after');
        }
        expectOk(
          await t.request('STATUS'),
          { locked: '1', attempts_left: '0', login: 'admin' },
          'still locked, no count',
        );
      });
    },
  }),
  lockout({
    name: 'login-works-while-locked',
    section: '§13',
    title: "an existing login keeps working while locked, the admin setting an operator's password included",
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '1', seconds: '30' }, async () => {
        await lockNow(t, 30);
        expectOk(await t.request('GET', [['key', 'net.mode']]), { value: 'eth' });
        expectOk(
          await t.request('PASSWD', [
            ['user', '01'],
            ['new', 'Op3r.Locked-5'],
          ]),
          {},
          "the admin sets operator 01's password (no old= checked)",
        );
      });
    },
  }),
  lockout({
    name: 'lock-ends',
    section: '§13',
    title: 'a lock ends after lockout.seconds; the count starts again from lockout.max',
    start: 'admin-ready',
    budgetMs: 20_000,
    async run(t) {
      await withLockout(t, { max: '2', seconds: '1' }, async () => {
        expectErr(await wrongLogin(t), 401, 'bad-credentials', { remaining: '1' });
        await lockNow(t, 1);
        expectErr(await rightLogin(t), 423, 'locked', { retry_after: '1' }, 'lockout.seconds=1');
        await t.sleep(1300);
        expectOk(await t.request('STATUS'), { locked: '0', attempts_left: '2' }, 'after lockout.seconds');
        expectOk(await rightLogin(t), {}, 'the right password after the lock');
      });
    },
  }),
  lockout({
    name: 'passwd-old-counts',
    section: '§13, §15 PASSWD check 7',
    title: 'PASSWD with a wrong old= is a failure (remaining=N); a right old= resets the count',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '3', seconds: '2' }, async () => {
        expectErr(
          await t.request('PASSWD', [
            ['old', WRONG],
            ['new', SUITE_ADMIN_PASSWORD_2],
          ]),
          401,
          'bad-credentials',
          { remaining: '2' },
        );
        expectOk(
          await t.request('PASSWD', [
            ['old', SUITE_ADMIN_PASSWORD],
            ['new', SUITE_ADMIN_PASSWORD_2],
          ]),
        );
        t.adminPassword = SUITE_ADMIN_PASSWORD_2;
        expectOk(await t.request('STATUS'), { attempts_left: '3' }, 'a right old= resets the count');
      });
    },
  }),
  lockout({
    name: 'max-zero-disables',
    section: '§13, D46, example 40',
    title:
      'lockout.max=0: no remaining=, no attempts_left, nothing counted; the count survives 0 and back; lowering shows at once',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, {}, async (original) => {
        expectErr(await wrongLogin(t), 401, 'bad-credentials', {
          remaining: String(Number(original.max) - 1),
        });
        await t.set('lockout.max', '1');
        expectOk(
          await t.request('STATUS'),
          { attempts_left: '0', locked: '0' },
          'lockout.max lowered to the count',
        );
        await t.set('lockout.max', '0');
        expectOk(await t.request('STATUS'), { attempts_left: null, locked: '0' }, 'lockout.max=0');
        expectErr(
          await wrongLogin(t),
          401,
          'bad-credentials',
          { remaining: null },
          'a failure while disabled',
        );
        await t.set('lockout.max', original.max);
        expectOk(
          await t.request('STATUS'),
          { attempts_left: String(Number(original.max) - 1) },
          'the count survived, and the failure while disabled was not counted',
        );
      });
    },
  }),
  lockout({
    name: 'lowered-max-locks-next',
    section: '§13, D46',
    title: 'lowering lockout.max to the count locks at the next failure',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { seconds: '30' }, async () => {
        expectErr(await wrongLogin(t), 401, 'bad-credentials');
        await t.set('lockout.max', '1');
        await lockNow(t, 30);
        expectOk(await t.request('STATUS'), { locked: '1', attempts_left: '0' });
      });
    },
  }),
  lockout({
    name: 'max-zero-keeps-lock',
    section: '§13, D46, example 41',
    title: 'setting lockout.max=0 does not end a running lock: locked=1, no attempts_left, LOGIN gets 423',
    start: 'admin-ready',
    async run(t) {
      await withLockout(t, { max: '1', seconds: '30' }, async () => {
        await lockNow(t, 30);
        await t.set('lockout.max', '0');
        expectOk(await t.request('STATUS'), { locked: '1', attempts_left: null });
        expectErr(await rightLogin(t), 423, 'locked', { retry_after: POSITIVE });
        expectErr(
          await t.request('LOGIN', [
            ['user', '01'],
            ['password', FACTORY_OPERATOR_PASSWORD],
          ]),
          423,
          'locked',
          {},
          'operator 01',
        );
      });
    },
  }),
];
