/**
 * docs/protocol.md §8 At-most-once execution: a retransmission is replayed, not executed.
 *
 * Whether a line was replayed or executed shows in the terminal's state: the checks store
 * `SET key=net.apn value=...` requests under IDs, move net.apn elsewhere with a request without
 * an ID (never stored), retransmit, and read net.apn back with GET without an ID. A replay leaves
 * net.apn where it was; an execution sets it again.
 */
import { appendCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectSameLines, expectThat } from '../expect.js';
import type { ProbeExchange } from '../probe.js';
import { FACTORY_ADMIN_PASSWORD, REPLAY_ENTRIES, SUITE_ADMIN_PASSWORD } from '../spec.js';

const replay = (spec: Parameters<typeof check>[1]) => check('replay', spec);

/** `@ID SET key=net.apn value=VALUE *CRC`, stored by the terminal when it answers OK. */
function setApn(t: Ctx, value: string, id = t.nextId()): string {
  return t.line(
    'SET',
    [
      ['key', 'net.apn'],
      ['value', value],
    ],
    { id },
  );
}

/** Moves net.apn without storing anything (no ID). */
async function moveApn(t: Ctx, value: string): Promise<void> {
  expectOk(
    await t.request(
      'SET',
      [
        ['key', 'net.apn'],
        ['value', value],
      ],
      { id: false },
    ),
  );
}

async function apn(t: Ctx): Promise<string> {
  const x = await t.request('GET', [['key', 'net.apn']], { id: false });
  return expectOk(x, { key: 'net.apn' }).fields.value ?? '';
}

/** Retransmits `line` and says from net.apn whether it was replayed (`moved` still there) or executed. */
async function retransmitted(
  t: Ctx,
  line: string,
  moved: string,
): Promise<{ x: ProbeExchange; replayed: boolean }> {
  const x = await t.exchange(line);
  expectOk(x, {}, 'the retransmission');
  return { x, replayed: (await apn(t)) === moved };
}

export const replayChecks: Check[] = [
  replay({
    name: 'retransmission-replayed',
    section: '§8, example 29',
    title: 'a retransmitted PASSWD is replayed byte for byte, not executed again',
    start: 'admin-must-change',
    async run(t) {
      const line = t.line('PASSWD', [
        ['old', FACTORY_ADMIN_PASSWORD],
        ['new', SUITE_ADMIN_PASSWORD],
      ]);
      const first = await t.exchange(line);
      expectOk(first);
      t.adminPassword = SUITE_ADMIN_PASSWORD;
      const again = await t.exchange(line);
      expectSameLines(first, again, '§8: the retransmission must get the stored reply, byte for byte');
      const status = await t.status();
      expectThat(
        status.attempts_left === '5',
        '§8: executing it again would have spent an attempt (old=1234 is no longer right)',
        {
          expected: 'attempts_left=5',
          got: `attempts_left=${status.attempts_left}`,
        },
      );
    },
  }),
  replay({
    name: 'wrong-login-costs-one-attempt',
    section: '§8, D30',
    title: 'a retransmitted wrong LOGIN is replayed: it costs one attempt, not two',
    start: 'factory',
    async run(t) {
      const line = t.line('LOGIN', [
        ['user', 'admin'],
        ['password', 'Wrong.Pw-1'],
      ]);
      const first = await t.exchange(line);
      expectErr(first, 401, 'bad-credentials', { remaining: '4' });
      expectSameLines(first, await t.exchange(line), '§8: the retransmission must get the stored 401');
      expectOk(await t.request('STATUS'), { attempts_left: '4' }, 'one attempt spent');
    },
  }),
  replay({
    name: 'same-id-other-line',
    section: '§8, D23, example 29',
    title: 'the same ID with another line is a new request: executed, and it replaces the entry',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      expectOk(await t.exchange(setApn(t, 'first', id)), { value: 'first' });
      expectOk(await t.exchange(setApn(t, 'second', id)), { value: 'second' }, 'the same ID, another line');
      expectThat((await apn(t)) === 'second', '§8: the same ID with another line must be executed');
      await moveApn(t, 'moved');
      const { replayed } = await retransmitted(t, setApn(t, 'first', id), 'moved');
      expectThat(!replayed, '§8: the first line was replaced under its ID, so sending it again executes it', {
        expected: 'net.apn=first',
        got: 'net.apn=moved',
      });
    },
  }),
  replay({
    name: 'data-lines-replayed',
    section: '§8, D22',
    title: 'a replay sends the stored DATA lines too, as they were',
    start: 'admin-ready',
    async run(t) {
      const line = t.line('USER-LIST');
      const first = await t.exchange(line);
      expectOk(first, { count: '1' });
      await t.ok('USER-ADD', [
        ['id', '02'],
        ['name', 'Night shift'],
        ['perms', 'sale'],
        ['password', 'Op3r.Tz8wQ4p'],
      ]);
      expectSameLines(
        first,
        await t.exchange(line),
        '§8: the retransmitted USER-LIST must get the stored lines (count=1)',
      );
    },
  }),
  replay({
    name: 'terminator-does-not-matter',
    section: '§8',
    title: 'a retransmission ended by LF instead of CRLF is still a retransmission',
    start: 'admin-ready',
    async run(t) {
      const line = setApn(t, 'first');
      expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      const x = await t.exchange(line, { end: '\n' });
      expectOk(x);
      expectThat((await apn(t)) === 'moved', '§8: the same bytes with another terminator must be replayed', {
        expected: 'net.apn=moved',
        got: 'net.apn=first',
      });
    },
  }),
  replay({
    name: 'byte-identical-only',
    section: '§8, D23',
    title: 'the same ID with one more space, or without the CRC, is another line: executed',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      expectOk(await t.exchange(setApn(t, 'first', id)));
      await moveApn(t, 'moved');
      const spaced = appendCrc(`@${id}  SET key=net.apn value=first`);
      expectThat(
        !(await retransmitted(t, spaced, 'moved')).replayed,
        '§8: a line with another space must be executed',
      );
      await moveApn(t, 'moved');
      const noCrc = `@${id} SET key=net.apn value=first`;
      expectThat(
        !(await retransmitted(t, noCrc, 'moved')).replayed,
        '§8: the line without its CRC must be executed',
      );
    },
  }),
  replay({
    name: 'sixteen-entries-fifo',
    section: '§8, §19',
    title: 'the cache keeps the last 16 replies: the 17th request evicts the oldest',
    start: 'admin-ready',
    async run(t) {
      const lines = Array.from({ length: REPLAY_ENTRIES + 1 }, (_, i) => setApn(t, `v${i}`));
      for (const line of lines) expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      // Entry 1 is the oldest kept: replayed (which does not move it).
      expectThat(
        (await retransmitted(t, lines[1]!, 'moved')).replayed,
        '§8: the 16th newest entry must still be replayed',
        {
          expected: 'net.apn=moved',
          got: 'net.apn=v1',
        },
      );
      // Entry 0 was evicted by the 17th: executed.
      expectThat(
        !(await retransmitted(t, lines[0]!, 'moved')).replayed,
        '§8: the 17th newest entry must be gone (executed)',
        {
          expected: 'net.apn=v0',
          got: 'net.apn=moved',
        },
      );
    },
  }),
  replay({
    name: 'replay-keeps-position',
    section: '§8, D30',
    title: 'a replay does not move its entry: it is still the next one evicted',
    start: 'admin-ready',
    async run(t) {
      const lines = Array.from({ length: REPLAY_ENTRIES }, (_, i) => setApn(t, `v${i}`));
      for (const line of lines) expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      expectThat(
        (await retransmitted(t, lines[0]!, 'moved')).replayed,
        '§8: the oldest of 16 entries must be replayed',
      );
      expectOk(await t.exchange(setApn(t, 'newest')));
      await moveApn(t, 'moved');
      expectThat(
        !(await retransmitted(t, lines[0]!, 'moved')).replayed,
        '§8: the replayed entry kept its place and was evicted by the next request',
      );
    },
  }),
  replay({
    name: 'not-stored-400',
    section: '§8, D27',
    title: 'a 400 (arguments or bytes) under an ID leaves the entry stored under it',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      const line = setApn(t, 'first', id);
      expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      expectErr(await t.exchange(appendCrc(`@${id} SET key=net.apn`)), 400, 'syntax', { key: 'value' });
      expectErr(await t.exchange(appendCrc(`@${id} SET key=net.apn value=x\x01`)), 400, 'syntax');
      expectThat(
        (await retransmitted(t, line, 'moved')).replayed,
        '§8: a 400 is not stored: the earlier entry must still be replayed',
        {
          expected: 'net.apn=moved',
          got: 'net.apn=first',
        },
      );
    },
  }),
  replay({
    name: 'not-stored-460',
    section: '§8, §6.3',
    title: 'a 460 under an ID leaves the entry stored under it',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      const line = setApn(t, 'first', id);
      expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      const damaged = `@${id} SET key=net.apn value=firsT${line.slice(-6)}`;
      expectErr(await t.exchange(damaged), 460, 'bad-crc');
      expectThat(
        (await retransmitted(t, line, 'moved')).replayed,
        '§8: a 460 is not stored: the earlier entry must still be replayed',
        {
          expected: 'net.apn=moved',
          got: 'net.apn=first',
        },
      );
    },
  }),
  replay({
    name: 'not-stored-413',
    section: '§8',
    title: 'a 413 for a line starting with an ID leaves the entry stored under it',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      const line = setApn(t, 'first', id);
      expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      expectErr(await t.exchange(`@${id} SET key=net.apn value=${'x'.repeat(600)}`), 413, 'line-too-long');
      expectThat(
        (await retransmitted(t, line, 'moved')).replayed,
        '§8: a 413 is not stored: the earlier entry must still be replayed',
        {
          expected: 'net.apn=moved',
          got: 'net.apn=first',
        },
      );
    },
  }),
  replay({
    name: 'stored-404',
    section: '§8, D27',
    title: 'a 404 under an ID is stored: it replaces the entry under that ID',
    start: 'admin-ready',
    async run(t) {
      const id = t.nextId();
      const line = setApn(t, 'first', id);
      expectOk(await t.exchange(line));
      await moveApn(t, 'moved');
      const frob = appendCrc(`@${id} FROB`);
      const unknown = await t.exchange(frob);
      expectErr(unknown, 404, 'unknown-command');
      expectSameLines(unknown, await t.exchange(frob), '§8: a 404 is answered the same each time');
      expectThat(
        !(await retransmitted(t, line, 'moved')).replayed,
        '§8: the 404 replaced the entry, so the SET must be executed',
        {
          expected: 'net.apn=first',
          got: 'net.apn=moved',
        },
      );
    },
  }),
  replay({
    name: 'no-id-never-stored',
    section: '§8',
    title: 'requests without an ID are never stored: a wrong LOGIN sent twice costs two attempts',
    start: 'factory',
    async run(t) {
      const line = 'LOGIN user=admin password=Wrong.Pw-1';
      expectErr(await t.exchange(line), 401, 'bad-credentials', { remaining: '4' });
      expectErr(
        await t.exchange(line),
        401,
        'bad-credentials',
        { remaining: '3' },
        'the same line again, no ID',
      );
    },
  }),
];
