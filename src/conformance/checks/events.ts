/**
 * docs/protocol.md §9 Events: EVT state after the first INIT and after RESET, EVT boot after
 * REBOOT, and whether an event carries a CRC (§6.3, D5: as the last line the terminal read did).
 * Events may come before, between or after the lines of a reply; the suite takes them wherever.
 */
import { appendCrc } from '../../protocol/index.js';
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import type { TspLine } from '../lines.js';
import { SUITE_MERCHANT, SUITE_TERMINAL } from '../spec.js';

const events = (spec: Parameters<typeof check>[1]) => check('events', spec);

function expectEventCrc(event: TspLine, crc: boolean, why: string): void {
  expectThat(
    event.crc === crc,
    `§6.3, D5: ${event.raw.text.split(' *')[0]} must carry ${crc ? 'a' : 'no'} CRC: ${why}`,
    {
      got: event.raw.text,
    },
  );
}

/** REBOOT, then EVT boot sn= within the reboot timeout. */
export async function rebootAndWait(t: Ctx, crc = true): Promise<TspLine> {
  expectOk(await t.request('REBOOT', [], { crc, ...(crc ? {} : { id: false }) }));
  const sent = t.config.now();
  const boot = await t.waitEvent('boot', t.config.rebootTimeoutMs);
  t.lastRebootMs = t.config.now() - sent;
  expectThat(boot.fields.sn === t.sn, '§9, D19: EVT boot carries sn= the serial number', {
    expected: `EVT boot sn=${t.sn}`,
    got: boot.raw.text,
  });
  return boot;
}

export const eventChecks: Check[] = [
  events({
    name: 'state-after-first-init',
    section: '§9, §15 INIT, example 16',
    title: 'the first INIT sends EVT state state=initialized (with a CRC, as the INIT had one)',
    start: 'admin-ready',
    async run(t) {
      expectOk(
        await t.request('INIT', [
          ['merchant', SUITE_MERCHANT],
          ['terminal', SUITE_TERMINAL],
        ]),
        { changed: '1' },
      );
      const event = await t.waitEvent('state', t.options.timeoutMs);
      expectThat(event.fields.state === 'initialized', '§9: EVT state state=initialized', {
        got: event.raw.text,
      });
      expectEventCrc(event, true, 'the INIT had one');
    },
  }),
  events({
    name: 'state-after-reset',
    section: '§9, §15 RESET, example 28',
    title: 'RESET sends EVT state state=factory',
    start: 'admin-ready',
    async run(t) {
      expectOk(await t.request('RESET', [['confirm', t.sn]]));
      t.adminPassword = '1234';
      const event = await t.waitEvent('state', t.options.timeoutMs);
      expectThat(event.fields.state === 'factory', '§9: EVT state state=factory', { got: event.raw.text });
    },
  }),
  events({
    name: 'boot-after-reboot',
    section: '§9, §15 REBOOT, D19, example 27',
    title: 'REBOOT answers OK, then EVT boot sn= when the terminal is back',
    start: 'admin-ready',
    budgetMs: 90_000,
    async run(t) {
      await rebootAndWait(t);
    },
  }),
  events({
    name: 'crc-follows-last-line',
    section: '§6.3, D5',
    title: 'an event carries a CRC exactly when the last line read on the connection did (a 400 included)',
    start: 'admin-ready',
    budgetMs: 90_000,
    async run(t) {
      // The event a request causes, after a line without a CRC: none.
      expectOk(await t.exchange(`INIT merchant=${SUITE_MERCHANT} terminal=${SUITE_TERMINAL}`));
      expectEventCrc(await t.waitEvent('state', t.options.timeoutMs), false, 'the INIT had none');
      // REBOOT without a CRC, then a line with one (answered 400) while the terminal is down.
      expectOk(await t.exchange('REBOOT'));
      const bad = await t.exchange(appendCrc(`@${t.nextId()} STATUS\x01`));
      const before = t.takeEvent('boot');
      expectErr(bad, 400, 'syntax', {}, 'a line with a bad byte is a 400, down or not (D19)');
      const boot = before ?? (await t.waitEvent('boot', t.config.rebootTimeoutMs));
      // If the terminal was back before it read that line, the REBOOT was the last one.
      expectEventCrc(
        boot,
        !before,
        before ? 'the last line read was the REBOOT' : 'the last line read (a 400) had one',
      );
      expectErr(
        await t.request('GET', [['key', 'net.mode']]),
        401,
        'auth-required',
        {},
        'the reboot ended the login',
      );
    },
  }),
];
