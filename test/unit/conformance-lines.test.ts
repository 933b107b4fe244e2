/**
 * The rules every line a terminal writes is held to (src/conformance/lines.ts), and the rules of
 * a reply given its request (judge): each problem is named with its section and its rule family,
 * and a conforming line (the worked examples of docs/protocol.md) has none.
 */
import { describe, expect, it } from 'vitest';
import type { Rule } from '../../src/conformance/lines.js';
import { hasCrcToken, leadingId, readLine, showBytes } from '../../src/conformance/lines.js';
import { judge, type ProbeExchange } from '../../src/conformance/probe.js';
import type { ReceivedLine, Terminator } from '../../src/conformance/wire.js';
import { appendCrc } from '../../src/protocol/index.js';

function received(text: string, terminator: Terminator = 'CRLF', length = text.length): ReceivedLine {
  return { text, terminator, length, at: 0 };
}

const problems = (text: string, terminator?: Terminator) =>
  readLine(received(text, terminator)).problems.map((p) => `${p.rule} ${p.text.split(':')[0]}`);

function exchange(request: string, ...replies: string[]): ProbeExchange {
  const lines = replies.map((r) => readLine(received(r)));
  return { request, lines, data: lines.filter((l) => l.kind === 'data'), final: lines.at(-1)!, events: [] };
}

const ALL: ReadonlySet<Rule> = new Set([
  'read',
  'terminator',
  'canonical',
  'crc',
  'id',
  'err',
  'evt',
  'text',
]);
const READ: ReadonlySet<Rule> = new Set(['read']);

describe('readLine', () => {
  it('a conforming reply, DATA line or event has no problem (worked examples 2, 24, 27)', () => {
    for (const line of [
      '@1 OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory caps=crc,replay,users,settings,time,diag,reboot,reset *53F5',
      '@9 DATA check=clock status=warn code=not_set hint="Clock not set: set it with TIME (posbridge provision does)" ms=5 *2CDB',
      'EVT boot sn=PBM0000001 *1C5F',
      '@7 ERR code=460 reason=bad-crc msg="CRC mismatch: line says 8B23" *88BD',
      'ERR code=413 reason=line-too-long msg="line of 513 bytes"',
    ])
      expect(problems(line), line).toEqual([]);
  });

  it('classifies the line and reads its ID, event name and fields', () => {
    const line = readLine(received('@12 DATA id=01 name="Caf\\xC3\\xA9" perms=sale must_change=1'));
    expect(line).toMatchObject({
      kind: 'data',
      id: '12',
      crc: false,
      keys: ['id', 'name', 'perms', 'must_change'],
    });
    expect(line.fields.name).toBe('Café');
    expect(line.written.name).toBe('"Caf\\xC3\\xA9"');
    expect(readLine(received('EVT state state=factory'))).toMatchObject({ kind: 'evt', event: 'state' });
  });

  it('names each broken rule with its section and family', () => {
    expect(problems('OK', 'LF')).toEqual(['terminator §3']);
    expect(problems(`OK x=${'1'.repeat(520)}`)).toEqual(['read §3']);
    expect(problems('OK x=\x01')).toEqual(['read §3']);
    expect(problems('OK *ffff'.replace('ffff', appendCrc('OK').slice(-4).toLowerCase()))).toEqual([
      'crc §6.1',
    ]);
    expect(problems('OK *0000')).toEqual(['read §6.2']);
    expect(problems('OK x=')).toEqual(['read §4']);
    expect(problems('YES')).toEqual(['read §7']);
    expect(problems('OK  x=1')).toEqual(['canonical §5']);
    expect(problems('OK x="a"')).toEqual(['canonical §5']);
    expect(problems('@1 EVT boot')).toEqual(['evt §9']);
    expect(problems('ERR reason=syntax code=400')).toEqual(['err §7']);
    expect(problems('ERR code=401 reason=permission')).toEqual(['err §11']);
    expect(problems('ERR code=400 reason=nope')).toEqual(['err §11']);
    expect(problems('ERR code=400 reason=syntax msg=x key=a')).toEqual(['err §7']);
    expect(problems(`ERR code=400 reason=syntax msg="${'m '.repeat(59)}m"`)).toEqual(['text D47']);
    expect(problems(`ERR code=400 reason=syntax msg="${'m '.repeat(58)}m"`)).toEqual([]);
  });

  it('shows bytes as the document does, and cuts long lines', () => {
    expect(showBytes('HELLO\tproto=1\xff')).toBe('HELLO⟨09⟩proto=1⟨FF⟩');
    expect(showBytes('x'.repeat(200), 10)).toBe('xxxxxxxxxx… (200 bytes)');
  });

  it('reads a request ID as D43 says, and a CRC token as §6.2 says', () => {
    expect(leadingId('  @12 HELLO')).toBe('12');
    expect(leadingId('@12')).toBe('12');
    expect(leadingId('@123456789 HELLO')).toBeUndefined();
    expect(leadingId('@12x HELLO')).toBeUndefined();
    expect(hasCrcToken('HELLO *49d6  ')).toBe(true);
    expect(hasCrcToken('HELLO *49D')).toBe(false);
    expect(hasCrcToken('proto=1*ABCD')).toBe(false);
  });
});

describe('judge', () => {
  it('passes a reply that echoes the ID and mirrors the CRC', () => {
    expect(() => judge(exchange('@1 HELLO proto=1 *4684', appendCrc('@1 OK proto=1')), ALL)).not.toThrow();
    expect(() => judge(exchange('HELLO', 'OK proto=1'), ALL)).not.toThrow();
  });

  it('a missing or wrong ID, a missing or extra CRC are named (§7, §6.3)', () => {
    const fail = (x: ProbeExchange, rules = ALL) => {
      try {
        judge(x, rules);
      } catch (error) {
        return (error as Error).message;
      }
      return 'passed';
    };
    expect(fail(exchange('@1 HELLO *4BD0', appendCrc('OK proto=1')))).toMatch(
      /^§7: the reply line carries no ID/,
    );
    expect(fail(exchange('@1 HELLO *4BD0', appendCrc('@2 OK proto=1')))).toMatch(
      /carries @2; the request's ID is @1/,
    );
    expect(fail(exchange('@1 HELLO *4BD0', '@1 OK proto=1'))).toMatch(/^§6.3: the reply line carries no CRC/);
    expect(fail(exchange('@1 HELLO', appendCrc('@1 OK proto=1')))).toMatch(
      /^§6.3: the reply line carries a CRC; the request had none/,
    );
    // D43: a 400 echoes an ID the line starts with; a 413 never carries one, nor a CRC.
    expect(fail(exchange('@12', '@12 ERR code=400 reason=syntax'))).toBe('passed');
    expect(
      fail(exchange(`@3 HELLO proto=${'1'.repeat(600)} *0000`, 'ERR code=413 reason=line-too-long')),
    ).toBe('passed');
    expect(
      fail(exchange(`@3 HELLO proto=${'1'.repeat(600)}`, '@3 ERR code=413 reason=line-too-long')),
    ).toMatch(/a 413 carries no ID/);
    // A 460 always carries a CRC, even though the line's token did not match.
    expect(fail(exchange('@1 *1234', '@1 ERR code=460 reason=bad-crc'))).toMatch(/a 460 always carries one/);
  });

  it('judges only the rule families asked for, and always what makes a line unreadable', () => {
    const noId = exchange('@1 HELLO', 'OK  proto=1');
    expect(() => judge(noId, READ)).not.toThrow();
    expect(() => judge(noId, new Set<Rule>(['read', 'id']))).toThrow(/§7/);
    expect(() => judge(noId, new Set<Rule>(['read', 'canonical']))).toThrow(/§5/);
    expect(() => judge(exchange('@1 HELLO', '@1 OK *0000'), READ)).toThrow(/§6.2/);
  });
});
