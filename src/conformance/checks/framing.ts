/** docs/protocol.md §3 Framing: terminators, empty and blank lines, spaces, the 512-byte limit, bytes. */
import { appendCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import { expectErr, expectOk } from '../expect.js';
import { MAX_LINE } from '../spec.js';

const framing = (spec: Parameters<typeof check>[1]) => check('framing', spec);

/** `@ID HELLO proto=DIGITS *CRC` of exactly `length` bytes. */
function helloOfLength(id: string, length: number): string {
  const head = `@${id} HELLO proto=`;
  const digits = length - head.length - ' *XXXX'.length;
  return appendCrc(head + '1'.repeat(digits));
}

export const framingChecks: Check[] = [
  framing({
    name: 'crlf',
    section: '§3',
    title: 'a line ended by CRLF is read, and every reply line ends with CRLF',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('STATUS'));
    },
  }),
  framing({
    name: 'cr-alone',
    section: '§3',
    title: 'a line ended by CR alone is read (what picocom sends)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('STATUS', [], { end: '\r' }));
      expectOk(await t.request('HELLO', [], { end: '\r' }), { proto: '1' });
    },
  }),
  framing({
    name: 'lf-alone',
    section: '§3',
    title: 'a line ended by LF alone is read',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('STATUS', [], { end: '\n' }));
    },
  }),
  framing({
    name: 'crlf-split',
    section: '§3, D1',
    title: 'a CRLF split between two writes is one terminator (no reply to an empty line)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const first = t.line('STATUS');
      const firstReply = t.collect(first);
      await t.write(first, '\r');
      expectOk(await firstReply);
      const second = t.line('HELLO');
      const secondReply = t.collect(second);
      await t.write(`\n${second}`, '\r\n');
      expectOk(await secondReply, { proto: '1' }, 'the line after the LF');
    },
  }),
  framing({
    name: 'empty-lines-ignored',
    section: '§3, D1',
    title: 'empty lines (CRLF, LF CR, CR CR) get no reply',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await t.write('\r\n\r\n\n\r\r\r\n');
      expectOk(await t.request('STATUS'), {}, 'the first reply after the empty lines');
    },
  }),
  framing({
    name: 'blank-lines-ignored',
    section: '§3',
    title: 'lines of only spaces get no reply',
    start: 'factory',
    readOnly: true,
    async run(t) {
      await t.write(' \r\n     \n   \r');
      expectOk(await t.request('STATUS'), {}, 'the first reply after the blank lines');
    },
  }),
  framing({
    name: 'spaces',
    section: '§3 Spaces',
    title: 'leading, trailing and repeated spaces are accepted',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const id = t.nextId();
      expectOk(await t.exchange(`   @${id}   STATUS   `), { state: /.+/ });
      expectOk(await t.exchange(`@${t.nextId()} HELLO    proto=1  `), { proto: '1' });
    },
  }),
  framing({
    name: 'verbs-any-case',
    section: '§4, D7',
    title: 'verbs match case-insensitively (status, Hello)',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectOk(await t.request('status'), { state: /.+/ });
      expectOk(await t.request('Hello'), { proto: '1' });
    },
  }),
  framing({
    name: 'line-of-512-bytes',
    section: '§3 Length',
    title: 'a line of exactly 512 bytes (ID and CRC included) is read normally',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const line = helloOfLength(t.nextId(), MAX_LINE);
      expectOk(await t.exchange(line), { proto: '1' }, 'a line of 512 bytes');
    },
  }),
  framing({
    name: 'line-of-513-bytes',
    rules: ['terminator', 'canonical', 'id', 'crc'],
    section: '§3 Length, §10 step 1, D3',
    title: 'a line of 513 bytes gets ERR 413, without ID or CRC, and the next line is read',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const line = helloOfLength(t.nextId(), MAX_LINE + 1);
      expectErr(await t.exchange(line), 413, 'line-too-long');
      expectOk(await t.request('STATUS'), {}, 'the line after the 413');
    },
  }),
  framing({
    name: 'very-long-line',
    rules: ['terminator', 'canonical', 'id', 'crc'],
    section: '§3 Length',
    title: 'a line of 10000 bytes gets one 413, and framing holds',
    start: 'factory',
    readOnly: true,
    async run(t) {
      const line = `@${t.nextId()} HELLO proto=${'9'.repeat(10_000)}`;
      expectErr(await t.exchange(line), 413, 'line-too-long');
      expectOk(await t.request('STATUS'), {}, 'the line after the 413');
    },
  }),
  framing({
    name: 'long-blank-line',
    rules: ['terminator', 'canonical', 'id', 'crc'],
    section: '§3, D25',
    title: 'a blank line longer than 512 bytes is a 413, not ignored',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.exchange(' '.repeat(600)), 413, 'line-too-long');
    },
  }),
  framing({
    name: 'tab-is-a-bad-byte',
    rules: ['terminator', 'canonical', 'id', 'crc'],
    section: '§3 Bytes, D2, D25',
    title: 'a TAB is answered 400, with the ID and the CRC echoed',
    start: 'factory',
    readOnly: true,
    async run(t) {
      expectErr(await t.exchange(appendCrc(`@${t.nextId()} HELLO\tproto=1`)), 400, 'syntax');
    },
  }),
  framing({
    name: 'bytes-outside-ascii',
    rules: ['terminator', 'canonical', 'id', 'crc'],
    section: '§3 Bytes, D2',
    title: 'NUL, XON, XOFF, ESC, DEL, 0x80 and 0xFF in a line are each a 400, never a hang',
    start: 'factory',
    readOnly: true,
    async run(t) {
      for (const byte of [0x00, 0x11, 0x13, 0x1b, 0x7f, 0x80, 0xff]) {
        const bad = String.fromCharCode(byte);
        const what = `a line holding 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
        expectErr(await t.exchange(appendCrc(`@${t.nextId()} HELLO proto=1${bad}`)), 400, 'syntax', {}, what);
      }
      // Raw UTF-8 (not escaped), without a CRC: the reply carries none.
      expectErr(await t.exchange(`@${t.nextId()} HELLO proto=Caf\xC3\xA9`), 400, 'syntax', {}, 'raw UTF-8');
      expectOk(await t.request('STATUS'), {}, 'the line after them');
    },
  }),
];
