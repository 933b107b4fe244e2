/**
 * One request of each kind of reply (OK, DATA lines, 400 for arguments and for a byte, 401, 404,
 * 409, 413, 422), for the checks that hold every kind to a rule of the wire (§6.3 CRC mirror,
 * §7 ID echo). From admin-ready: the admin is logged in (a failed LOGIN leaves it so).
 */
import { appendCrc } from '../../protocol/index.js';
import type { Ctx } from '../context.js';
import { expectCode } from '../expect.js';
import type { LineOptions } from '../probe.js';
import { SUITE_OPERATOR_PASSWORD } from '../spec.js';

export async function everyKindOfReply(t: Ctx, options: { crc: boolean }): Promise<void> {
  const line = (verb: string, fields: Array<[string, string]> = []) =>
    t.line(verb, fields, { crc: options.crc } satisfies LineOptions);
  const kinds: Array<[string, string, number]> = [
    ['OK', line('HELLO'), 0],
    ['DATA lines', line('USER-LIST'), 0],
    ['400 (arguments)', line('GET'), 400],
    ['404', line('FROB'), 404],
    ['422', line('GET', [['key', 'net.nope']]), 422],
    [
      '409',
      line('USER-ADD', [
        ['id', '01'],
        ['name', 'X'],
        ['perms', 'sale'],
        ['password', SUITE_OPERATOR_PASSWORD],
      ]),
      409,
    ],
    [
      '401',
      line('LOGIN', [
        ['user', 'admin'],
        ['password', 'Wrong.Pw-1'],
      ]),
      401,
    ],
  ];
  const bad = `@${t.nextId()} STATUS\x01`;
  kinds.push(['400 (bytes)', options.crc ? appendCrc(bad) : bad, 400]);
  kinds.push(['413', `@${t.nextId()} HELLO proto=${'7'.repeat(600)}${options.crc ? ' *0000' : ''}`, 413]);
  for (const [what, text, code] of kinds) {
    expectCode(await t.exchange(text), code, what);
  }
}
