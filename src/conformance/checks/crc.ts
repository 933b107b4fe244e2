/** docs/protocol.md §6 CRC: what it covers, either hex case, the mirror rule, 460. */
import { appendCrc, crc16, formatCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import { expectErr, expectOk } from '../expect.js';
import { everyKindOfReply } from './sample.js';

const crc = (spec: Parameters<typeof check>[1]) => check('crc', spec);

/** A CRC that is not the line's. */
function wrongCrc(body: string): string {
  return formatCrc(crc16(body) ^ 0x0101);
}

export const crcChecks: Check[] = [
  crc({
    name: 'mirror-with-crc',
    section: '§6.3',
    title:
      'every reply line to a request with a CRC (DATA lines, every error) carries a correct upper-case CRC; a 413 none',
    start: 'admin-ready',
    async run(t) {
      await everyKindOfReply(t, { crc: true });
    },
  }),
  crc({
    name: 'mirror-without-crc',
    section: '§6.3',
    title: 'no reply line to a request without a CRC carries one (what a person typing sees)',
    start: 'admin-ready',
    async run(t) {
      await everyKindOfReply(t, { crc: false });
      expectOk(await t.request('STATUS', [], { id: false, crc: false }), {}, 'no ID either');
    },
  }),
  crc({
    name: 'lower-case-hex',
    section: '§6.1',
    title: 'a CRC written in lower-case hex is accepted (the reply writes upper case)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      // An ID whose line's CRC has a letter in it, so the case matters.
      let line = '';
      for (let i = 0; i < 64 && !/[A-F]/.test(line.slice(-4)); i++) line = t.line('STATUS');
      expectOk(await t.exchange(line.slice(0, -4) + line.slice(-4).toLowerCase()));
    },
  }),
  crc({
    name: 'bad-crc-460',
    rules: ['crc', 'id'],
    section: '§6.3, §10 step 3',
    title: 'a CRC that does not match gets ERR 460 with the ID echoed, always with a CRC',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const body = `@${t.nextId()} STATUS`;
      expectErr(await t.exchange(`${body} *${wrongCrc(body)}`), 460, 'bad-crc');
      expectErr(await t.exchange(`STATUS *${wrongCrc('STATUS')}`), 460, 'bad-crc', {}, 'without an ID');
    },
  }),
  crc({
    name: 'covers-bytes-as-sent',
    section: '§6.2, D4',
    title: 'the CRC covers every byte before the space before *, leading and extra spaces included',
    start: 'factory',
    readOnly: true,
    async run(t) {
      // Example 6: both leading spaces, both spaces after the ID and one before * are covered.
      expectOk(await t.exchange(appendCrc(`  @${t.nextId()}  STATUS `)), {}, 'leading and doubled spaces');
      // HELLO  *2B8F: one trailing space covered.
      expectOk(
        await t.exchange(appendCrc(`@${t.nextId()} HELLO `)),
        { proto: '1' },
        'a covered trailing space',
      );
    },
  }),
  crc({
    name: 'not-normalised',
    section: '§6.2',
    title: 'a CRC computed over the line with its spaces normalised does not match (460)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const id = t.nextId();
      const normalised = `@${id} STATUS`;
      const sent = `@${id}  STATUS *${formatCrc(crc16(normalised))}`;
      expectErr(await t.exchange(sent), 460, 'bad-crc', {}, 'a CRC over single spaces, sent with two');
    },
  }),
  crc({
    name: 'spaces-after-crc',
    section: '§4, §6.2',
    title: 'trailing spaces after the CRC token are ignored',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.exchange(`${t.line('STATUS')}   `));
    },
  }),
  crc({
    name: 'malformed-crc-token',
    rules: ['crc', 'id'],
    section: '§4, D4',
    title: 'a final * token that is not four hex digits (*12G4, *123, *, *12345) is a 400 and no CRC',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const token of ['*12G4', '*123', '*', '*12345']) {
        expectErr(await t.exchange(`@${t.nextId()} STATUS ${token}`), 400, 'syntax', {}, `STATUS ${token}`);
      }
    },
  }),
  crc({
    name: 'star-not-last',
    rules: ['crc', 'id'],
    section: '§4',
    title: 'a *XXXX token that is not the last one, or glued to a value, is a 400',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const id = t.nextId();
      const body = `@${id} HELLO`;
      expectErr(
        await t.exchange(`${body} *${formatCrc(crc16(body))} proto=1`),
        400,
        'syntax',
        {},
        'CRC before a field',
      );
      expectErr(
        await t.exchange(`@${t.nextId()} HELLO proto=1*ABCD`),
        400,
        'syntax',
        { key: 'proto' },
        'proto=1*ABCD is a bad value',
      );
    },
  }),
];
