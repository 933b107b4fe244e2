/**
 * docs/protocol.md §15 DIAG and §17 Diagnostics: a DATA line per check in the order asked, codes
 * from the table with their status, hints bounded, OK counts that add up, and the order of the
 * argument errors (D36). A terminal with hardware faults (no paper) still conforms: a check may
 * warn or fail, as long as it says so the way §17 lists.
 */
import { type Check, check } from '../check.js';
import type { Ctx } from '../context.js';
import { expectErr, expectOk, expectThat } from '../expect.js';
import type { TspLine } from '../lines.js';
import type { ProbeExchange } from '../probe.js';
import { DIAG_CHECKS, DIAG_ORDER, MAX_ECHO } from '../spec.js';

const diag = (spec: Parameters<typeof check>[1]) => check('diag', spec);

const CODES = new Map(DIAG_CHECKS);

/** One DATA line against §15 DIAG and §17; returns its status. */
function judgeData(line: TspLine, want: string): string {
  const { fields } = line;
  const show = line.raw.text;
  expectThat(fields.check === want, '§15 DIAG: DATA lines come in the order of the checks asked', {
    expected: `check=${want}`,
    got: show,
  });
  const known = ['check', 'status', 'code', 'hint', 'ms'];
  const order = line.keys.filter((k) => known.includes(k));
  const expectedOrder = known.filter((k) => order.includes(k));
  expectThat(
    order.join(' ') === expectedOrder.join(' '),
    '§15 DIAG: DATA fields in the order check status code hint ms',
    {
      got: show,
    },
  );
  const status = fields.status ?? '';
  expectThat(['pass', 'warn', 'fail'].includes(status), '§15 DIAG: status is pass, warn or fail', {
    got: show,
  });
  if (status === 'pass') {
    expectThat(
      fields.code === undefined && fields.hint === undefined,
      '§15 DIAG: a pass line has no code and no hint',
      {
        got: show,
      },
    );
  } else {
    const codes = CODES.get(want) ?? {};
    const code = fields.code ?? '';
    expectThat(Object.hasOwn(codes, code), `§17: ${want} has no code ${code || '(none)'}`, {
      expected: Object.keys(codes).join(' or '),
      got: show,
    });
    expectThat(codes[code] === status, `§17: ${want} ${code} is a ${codes[code]}`, { got: show });
    expectThat((fields.hint ?? '') !== '', '§15 DIAG: a warn or fail line has a hint', { got: show });
  }
  if (fields.ms !== undefined)
    expectThat(/^(0|[1-9][0-9]*)$/.test(fields.ms), '§15 DIAG, D51: ms is a whole number of milliseconds', {
      got: show,
    });
  return status;
}

/** A whole DIAG reply for `checks`: a DATA line each, in order, and OK pass= warn= fail= adding up. */
function judgeDiag(x: ProbeExchange, checks: readonly string[]): Map<string, TspLine> {
  expectThat(x.data.length === checks.length, `§15 DIAG: one DATA line per check (${checks.length})`, {
    expected: checks.join(','),
    got: x.data.map((d) => d.fields.check).join(','),
    x,
  });
  const counts = { pass: 0, warn: 0, fail: 0 };
  const byCheck = new Map<string, TspLine>();
  x.data.forEach((line, i) => {
    counts[judgeData(line, checks[i]!) as keyof typeof counts]++;
    byCheck.set(checks[i]!, line);
  });
  const ok = expectOk(
    x,
    { pass: String(counts.pass), warn: String(counts.warn), fail: String(counts.fail) },
    'OK counts the DATA lines',
  );
  expectThat(ok.keys.slice(0, 3).join(' ') === 'pass warn fail', '§15 DIAG: OK pass= warn= fail=', {
    got: ok.raw.text,
  });
  return byCheck;
}

async function diagOf(t: Ctx, checks?: readonly string[]): Promise<Map<string, TspLine>> {
  const x = await t.diag(checks ? [['checks', checks.join(',')]] : []);
  return judgeDiag(x, checks ?? DIAG_ORDER);
}

export const diagChecks: Check[] = [
  diag({
    name: 'every-check',
    section: '§15 DIAG, §17',
    title:
      'DIAG runs the twelve checks in the default order, codes and statuses from the table, OK counts adding up',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      await diagOf(t);
    },
  }),
  diag({
    name: 'checks-in-order-asked',
    section: '§15 DIAG',
    title: 'DIAG checks=nfc,power,clock answers those three, in that order',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      await diagOf(t, ['nfc', 'power', 'clock']);
      await diagOf(t, ['tamper']);
    },
  }),
  diag({
    name: 'host-not-configured',
    section: '§17',
    title: 'host warns not_configured (or fails) until host.addr is set, and not after',
    start: 'admin-ready',
    async run(t) {
      const before = (await diagOf(t, ['host'])).get('host')!;
      expectThat(
        before.fields.code === 'not_configured' || before.fields.status === 'fail',
        '§17: with host.addr unset, host warns not_configured',
        { got: before.raw.text },
      );
      await t.set('host.addr', 'acq.example.net');
      await t.set('host.port', '8583');
      const after = (await diagOf(t, ['host'])).get('host')!;
      expectThat(
        after.fields.code !== 'not_configured',
        '§17: once host.addr is set, host no longer warns not_configured',
        {
          got: after.raw.text,
        },
      );
    },
  }),
  diag({
    name: 'clock-set',
    section: '§17, §15 TIME',
    title: 'once TIME has set the clock, clock no longer warns not_set',
    start: 'admin-ready',
    async run(t) {
      await t.ok('TIME', [['utc', t.utcNow()]]);
      const clock = (await diagOf(t, ['clock'])).get('clock')!;
      expectThat(clock.fields.code !== 'not_set', '§17: clock warns not_set only until TIME sets it', {
        got: clock.raw.text,
      });
    },
  }),
  diag({
    name: 'unknown-check',
    section: '§15 DIAG, D15, example 26',
    title: 'a name that is no check is 422 unknown-check check=NAME (the first from the left)',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      expectErr(await t.diag([['checks', 'printer,modem']]), 422, 'unknown-check', { check: 'modem' });
      expectErr(
        await t.diag([['checks', 'fax,printer,modem']]),
        422,
        'unknown-check',
        { check: 'fax' },
        'two unknown',
      );
      const long = 'z'.repeat(100);
      expectErr(
        await t.diag([['checks', long]]),
        422,
        'unknown-check',
        { check: long.slice(0, MAX_ECHO) },
        'cut to 64 bytes',
      );
    },
  }),
  diag({
    name: 'names-before-repeats',
    section: '§15 DIAG, D36, example 38',
    title: 'unknown names answer before repeats; a repeat alone is 422 invalid-value key=checks',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      expectErr(await t.diag([['checks', 'printer,printer,modem']]), 422, 'unknown-check', {
        check: 'modem',
      });
      expectErr(
        await t.diag([['checks', 'printer,printer']]),
        422,
        'invalid-value',
        { key: 'checks' },
        'a repeat',
      );
    },
  }),
  diag({
    name: 'empty-names-first',
    section: '§15 DIAG, D15, D36',
    title: 'an empty list or an empty name is 422 invalid-value key=checks, before unknown names',
    start: 'admin-ready',
    readOnly: true,
    async run(t) {
      expectErr(await t.diag([['checks', '']]), 422, 'invalid-value', { key: 'checks' }, 'checks=""');
      expectErr(
        await t.diag([['checks', 'printer,,clock']]),
        422,
        'invalid-value',
        { key: 'checks' },
        'an empty name',
      );
      expectErr(
        await t.diag([['checks', 'modem,,printer']]),
        422,
        'invalid-value',
        { key: 'checks' },
        'an empty name and an unknown one',
      );
    },
  }),
];
