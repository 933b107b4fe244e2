/**
 * docs/protocol.md §15 Commands: HELLO, STATUS, LOGIN, LOGOUT, TIME (PASSWD and INIT:
 * commands-passwd-init.ts; the operators: commands-users.ts).
 */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import { CAPS, FACTORY_ADMIN_PASSWORD, FACTORY_OPERATOR_PASSWORD } from '../spec.js';
import { expectKeys, expectStatusShape, isBareToken } from './shapes.js';

const commands = (spec: Parameters<typeof check>[1]) => check('commands', spec);

const UTC = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

export async function expectLoginWorks(
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
