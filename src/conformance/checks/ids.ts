/** docs/protocol.md §7 IDs, D6, D43: echoed verbatim, compared as strings, and echoed in 400 and 460. */
import { appendCrc, crc16, formatCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import { expectErr, expectOk } from '../expect.js';
import { everyKindOfReply } from './sample.js';

const ids = (spec: Parameters<typeof check>[1]) => check('ids', spec);

export const idChecks: Check[] = [
  ids({
    name: 'echoed',
    section: '§7',
    title: 'every reply line (DATA lines, every error but 413) echoes the request ID',
    start: 'admin-ready',
    async run(t) {
      await everyKindOfReply(t, { crc: true });
    },
  }),
  ids({
    name: 'none-without-id',
    section: '§7',
    title: 'a request without an ID gets reply lines without one',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('USER-LIST', [], { id: false }));
      expectErr(await t.request('GET', [['key', 'net.nope']], { id: false }), 422, 'unknown-key');
      expectErr(await t.request('FROB', [], { id: false }), 404, 'unknown-command');
    },
  }),
  ids({
    name: 'verbatim',
    section: '§7',
    title: 'IDs are echoed verbatim: @007, @0 and 8 digits',
    start: 'factory',
    readOnly: true,
    async run(t) {
      // Fresh on each run (the first RESET emptied the replay cache), so never a replay.
      for (const id of ['007', '0', '00000000', '12345678']) {
        expectOk(await t.request('STATUS', [], { id }), {}, `@${id}`);
      }
    },
  }),
  ids({
    name: 'nine-digits',
    rules: ['id', 'crc'],
    section: '§7, D6, example 36',
    title: 'nine digits are no ID: a 400 that echoes none',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.exchange('@123456789 HELLO'), 400, 'syntax');
    },
  }),
  ids({
    name: 'malformed-id',
    rules: ['id', 'crc'],
    section: 'D6',
    title: 'an @ token that is not @ and 1-8 digits (@12x, @, @-1) is a 400 that echoes no ID',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const token of ['@12x', '@', '@-1', '@1a2']) {
        expectErr(await t.exchange(appendCrc(`${token} HELLO`)), 400, 'syntax', {}, `${token} HELLO`);
      }
    },
  }),
  ids({
    name: 'id-alone',
    rules: ['id', 'crc'],
    section: 'D43, example 36',
    title: '@12 alone gets @12 ERR 400 (an ID and no verb), with a CRC when it had one',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.exchange(`@${t.nextId()}`), 400, 'syntax');
      expectErr(await t.exchange(appendCrc(`@${t.nextId()}`)), 400, 'syntax', {}, 'with a CRC');
    },
  }),
  ids({
    name: 'id-in-460',
    rules: ['id', 'crc'],
    section: 'D43, example 36',
    title: '@1 *1234 (an ID and a CRC that does not match) gets @1 ERR 460 with a CRC',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const body = `@${t.nextId()}`;
      expectErr(await t.exchange(`${body} *${formatCrc(crc16(body) ^ 0x1111)}`), 460, 'bad-crc');
    },
  }),
  ids({
    name: 'id-in-400-bytes',
    rules: ['id', 'crc'],
    section: 'D2',
    title: 'a line with a bad byte echoes the ID it starts with (after leading spaces)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.exchange(appendCrc(`  @${t.nextId()} STATUS\x7f`)), 400, 'syntax');
    },
  }),
];
