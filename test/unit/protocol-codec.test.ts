import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendCrc,
  CAPABILITIES,
  COMMANDS,
  checkPassword,
  codeOfSlug,
  crc16,
  DIAG_CHECK_ORDER,
  DIAG_CHECKS,
  decodeText,
  diagCode,
  ERROR_CODES,
  type ErrorSlug,
  encodeData,
  encodeErr,
  encodeEvent,
  encodeLine,
  encodeOk,
  encodeValue,
  type Frame,
  formatCrc,
  formatUtc,
  isErrorCode,
  isHostAddress,
  isTextWithin,
  KNOWN_DEFAULT_PASSWORDS,
  LineSplitter,
  lookupVerb,
  MASK,
  MAX_ECHOED_KEY,
  MAX_FREE_TEXT,
  MAX_LINE_BYTES,
  MERCHANT_NUMBER,
  maskAccount,
  maskLine,
  maskLineDetailed,
  NOT_REPLAYED,
  OPERATOR_ID,
  PASSWORD_MAX,
  PASSWORD_MIN,
  PASSWORD_PROBLEM_TEXT,
  type ParsedLine,
  type PasswordProblem,
  PERMISSIONS,
  parseIntegerIn,
  parseLine,
  parsePermissions,
  parseReply,
  parseUtc,
  type Rejection,
  type Request,
  readRequest,
  SETTINGS,
  showSetting,
  splitCrc,
  TERMINAL_NUMBER,
  utf8Length,
  VERBS,
} from '../../src/protocol/index.js';

const enc = new TextEncoder();
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const crcOf = (text: string): string => formatCrc(crc16(text));

function parsed(text: string): ParsedLine {
  const result = parseLine(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse: ${result.fault.detail}`);
  return result.line;
}

function fieldsOf(line: ParsedLine): [string, number[]][] {
  return line.fields.map((f) => [f.key, [...f.value]]);
}

function request(text: string): Request {
  const result = readRequest({ kind: 'line', text });
  if (!result.ok)
    throw new Error(`expected ${JSON.stringify(text)} to be a request: ${JSON.stringify(result.rejection)}`);
  return result.request;
}

function rejection(frame: Frame | string): Rejection {
  const result = readRequest(typeof frame === 'string' ? { kind: 'line', text: frame } : frame);
  if (result.ok) throw new Error(`expected ${JSON.stringify(frame)} to be rejected`);
  return result.rejection;
}

/** Through the splitter, as the terminal receives it. */
function rejectionOfBytes(data: Uint8Array): Rejection {
  const frames = new LineSplitter().push(data);
  expect(frames).toHaveLength(1);
  return rejection(frames[0]!);
}

describe('crc16 (CRC-16/CCITT-FALSE)', () => {
  it('has the check value 0x29B1 for "123456789"', () => {
    expect(crc16('123456789')).toBe(0x29b1);
    expect(crc16(ascii('123456789'))).toBe(0x29b1);
  });

  it('starts from 0xFFFF', () => {
    expect(crc16('')).toBe(0xffff);
  });

  it('is written as four upper-case hex digits', () => {
    expect(formatCrc(0x29b1)).toBe('29B1');
    expect(formatCrc(0x000a)).toBe('000A');
    expect(formatCrc(0)).toBe('0000');
  });

  it('agrees between bytes and latin-1 strings', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(crc16(String.fromCharCode(...all))).toBe(crc16(all));
  });
});

describe('parseLine', () => {
  it('reads a bare request', () => {
    expect(parsed('HELLO')).toEqual({ words: ['HELLO'], fields: [], crc: false });
  });

  it('reads an ID, verbatim', () => {
    expect(parsed('@42 STATUS')).toEqual({ id: '42', words: ['STATUS'], fields: [], crc: false });
    expect(parsed('@00000007 STATUS').id).toBe('00000007');
    expect(parsed('@1 STATUS').id).toBe('1');
    expect(parsed('@12345678 STATUS').id).toBe('12345678');
  });

  it('reads key=value fields in order', () => {
    const line = parsed('@3 LOGIN user=admin password=s3cret.pw');
    expect(line.words).toEqual(['LOGIN']);
    expect(fieldsOf(line)).toEqual([
      ['user', [...ascii('admin')]],
      ['password', [...ascii('s3cret.pw')]],
    ]);
  });

  it('reads every bare-token character', () => {
    const token = 'AZaz09_.:,+/-';
    expect(fieldsOf(parsed(`SET key=net.apn value=${token}`))[1]).toEqual(['value', [...ascii(token)]]);
  });

  it('unescapes \\" and \\\\ in quoted values', () => {
    const line = parsed('SET key=net.apn value="say \\"hi\\" \\\\ back\\\\"');
    expect(fieldsOf(line)[1]).toEqual(['value', [...ascii('say "hi" \\ back\\')]]);
  });

  it('unescapes \\xHH in either hex case', () => {
    const line = parsed(
      'INIT merchant=123456789012345 terminal=12345678 name="Caf\\xc3\\xA9 \\x00\\xFF\\xfF\\x7f"',
    );
    expect(fieldsOf(line)[2]).toEqual(['name', [0x43, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0x00, 0xff, 0xff, 0x7f]]);
    expect(decodeText(line.fields[2]!.value.subarray(0, 5))).toBe('Café');
  });

  it('keeps spaces and = inside quoted values', () => {
    const line = parsed('SET key=net.wifi.ssid value="  my = net  "');
    expect(fieldsOf(line)[1]).toEqual(['value', [...ascii('  my = net  ')]]);
  });

  it('reads "" as the empty value', () => {
    const line = parsed('SET key=net.apn value=""');
    expect(line.fields[1]!.value).toEqual(new Uint8Array(0));
  });

  it('ignores leading and trailing spaces and takes runs of spaces as one separator', () => {
    const expected = parsed('@9 LOGIN user=admin password=x1y2z3');
    expect(parsed('   @9    LOGIN   user=admin      password=x1y2z3    ')).toEqual(expected);
  });

  it('reads several words (replies and events)', () => {
    expect(parsed('EVT lockout retry_after=300').words).toEqual(['EVT', 'lockout']);
  });

  it('accepts a word with digits and hyphens', () => {
    expect(parsed('USER-ADD id=02').words).toEqual(['USER-ADD']);
  });

  const syntaxErrors: [string, string][] = [
    ['empty value', 'SET key=net.apn value='],
    ['a bad character in a bare value', 'SET key=net.apn value=a"b'],
    ['an asterisk in a bare value', 'SET key=net.apn value=a*b'],
    ['text after a closing quote', 'SET key=net.apn value="a"b'],
    ['an unterminated quote', 'SET key=net.apn value="abc'],
    ['a bad escape \\n', 'SET key=net.apn value="a\\nb"'],
    ['a short \\x escape', 'SET key=net.apn value="a\\x4"'],
    ['a non-hex \\x escape', 'SET key=net.apn value="\\xZZ"'],
    ['a lone backslash at the end', 'SET key=net.apn value="a\\'],
    ['an upper-case key', 'LOGIN USER=admin password=x'],
    ['a key starting with a digit', 'LOGIN 1user=admin'],
    ['a key with a hyphen', 'LOGIN us-er=admin'],
    ['an empty key', 'LOGIN =admin'],
    ['a word after the fields', 'LOGIN user=admin extra'],
    ['a word starting with a digit', '1HELLO'],
    ['a word with an underscore', 'HEL_LO'],
    ['no word at all', 'user=admin'],
    ['an ID alone', '@12'],
    ['a malformed CRC (3 digits)', 'HELLO *123'],
    ['a malformed CRC (5 digits)', 'HELLO *12345'],
    ['a malformed CRC (non-hex)', 'HELLO *12G4'],
    ['a CRC not preceded by a space', `HELLO*${crcOf('HELLO')}`],
  ];
  for (const [what, text] of syntaxErrors) {
    it(`rejects ${what} as syntax`, () => {
      const result = parseLine(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.fault.fault).toBe('syntax');
    });
  }

  it('names the key whose value broke the syntax', () => {
    const result = parseLine('@5 SET key=net.apn value="abc');
    expect(result).toMatchObject({
      ok: false,
      fault: { fault: 'syntax', key: 'value', id: '5', verb: 'SET' },
    });
  });
});

describe('CRC on lines', () => {
  it('accepts a correct CRC and says the line had one', () => {
    const line = parsed(`@1 HELLO *${crcOf('@1 HELLO')}`);
    expect(line).toEqual({ id: '1', words: ['HELLO'], fields: [], crc: true });
  });

  it('accepts lower-case CRC hex', () => {
    // A body whose CRC has hex letters (so lower case differs from upper case).
    let n = 1;
    while (!/[A-F]/.test(crcOf(`@${n} HELLO`))) n++;
    const body = `@${n} HELLO`;
    const hex = crcOf(body).toLowerCase();
    expect(hex).not.toBe(crcOf(body));
    expect(parsed(`${body} *${hex}`)).toMatchObject({ id: String(n), crc: true });
  });

  it('covers the bytes exactly as sent, up to the single space before the final *', () => {
    // Two spaces before `*`: the first belongs to the body.
    expect(parsed(`HELLO  *${crcOf('HELLO ')}`).crc).toBe(true);
    expect(parseLine(`HELLO  *${crcOf('HELLO')}`)).toMatchObject({ ok: false, fault: { fault: 'bad-crc' } });
    // Leading spaces and runs of spaces are covered too.
    const body = '  @7   LOGIN  user=admin   password=abc.def ';
    expect(parsed(`${body} *${crcOf(body)}`)).toMatchObject({ id: '7', words: ['LOGIN'], crc: true });
    expect(parseLine(`${body} *${crcOf(body.trim())}`)).toMatchObject({
      ok: false,
      fault: { fault: 'bad-crc' },
    });
  });

  it('allows trailing spaces after the CRC', () => {
    expect(parsed(`HELLO *${crcOf('HELLO')}   `).crc).toBe(true);
  });

  it('splits the CRC off a line', () => {
    expect(splitCrc('  A  B  *29b1  ')).toEqual({ body: '  A  B ', crc: 0x29b1 });
    expect(splitCrc('HELLO')).toBeUndefined();
    expect(splitCrc('HELLO *29B')).toBeUndefined();
  });

  it('reports a wrong CRC as bad-crc, echoing the ID', () => {
    const wrong = ((crc16('@77 HELLO') + 1) & 0xffff).toString(16).padStart(4, '0');
    expect(parseLine(`@77 HELLO *${wrong}`)).toMatchObject({
      ok: false,
      fault: { fault: 'bad-crc', id: '77', crc: true },
    });
  });

  it('appendCrc writes a single space, *, and four upper-case digits', () => {
    expect(appendCrc('123456789')).toBe('123456789 *29B1');
  });
});

describe('encodeLine and encodeValue', () => {
  it('writes bare tokens bare', () => {
    expect(
      encodeLine({
        words: ['LOGIN'],
        fields: [
          ['user', 'admin'],
          ['password', 'a.b:c'],
        ],
      }),
    ).toBe('LOGIN user=admin password=a.b:c');
  });

  it('writes an ID and a CRC', () => {
    const text = encodeLine({ id: '12', words: ['HELLO'], fields: [['proto', 1]], crc: true });
    expect(text).toBe(`@12 HELLO proto=1 *${crcOf('@12 HELLO proto=1')}`);
    expect(parsed(text)).toMatchObject({ id: '12', words: ['HELLO'], crc: true });
  });

  it('writes the empty value as ""', () => {
    expect(encodeValue('')).toBe('""');
    expect(encodeValue(new Uint8Array(0))).toBe('""');
  });

  it('quotes and escapes " and \\', () => {
    expect(encodeValue('say "hi" \\')).toBe('"say \\"hi\\" \\\\"');
  });

  it('writes bytes outside 0x20-0x7E as upper-case \\xHH', () => {
    expect(encodeValue('Café')).toBe('"Caf\\xC3\\xA9"');
    expect(encodeValue(Uint8Array.from([0x00, 0x09, 0x7f, 0x80, 0xff]))).toBe('"\\x00\\x09\\x7F\\x80\\xFF"');
  });

  it('writes bytes that form a bare token bare', () => {
    expect(encodeValue(ascii('abc'))).toBe('abc');
    expect(encodeValue(42)).toBe('42');
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = encodeLine({ id: '1', words: ['SET'], fields: [['value', all]], crc: true });
    expect(text).toMatch(/^[\x20-\x7e]+$/);
    expect(parsed(text).fields[0]!.value).toEqual(all);
  });
});

describe('readRequest', () => {
  it('gives a typed request with canonical verb, args, CRC flag and the raw line', () => {
    const raw = `@5 login user=admin password=abc.123 *${crcOf('@5 login user=admin password=abc.123')}`;
    const req = request(raw);
    expect(req.verb).toBe('LOGIN');
    expect(req.id).toBe('5');
    expect(req.crc).toBe(true);
    expect(req.raw).toBe(raw);
    expect([...req.args.keys()]).toEqual(['user', 'password']);
    expect(req.args.get('password')).toEqual(ascii('abc.123'));
  });

  it('has no id when the line had none', () => {
    expect(request('HELLO')).not.toHaveProperty('id');
  });

  it('matches verbs case-insensitively', () => {
    for (const word of ['hello', 'Hello', 'hElLo', 'HELLO']) expect(request(word).verb).toBe('HELLO');
    expect(request('user-list').verb).toBe('USER-LIST');
    expect(lookupVerb('User-Add')).toBe('USER-ADD');
  });

  it('does not take Object prototype names for verbs', () => {
    for (const word of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(lookupVerb(word)).toBeUndefined();
      expect(rejection(word).code).toBe(404);
    }
  });

  it('accepts optional arguments and their absence', () => {
    expect(request('HELLO proto=1').args.get('proto')).toEqual(ascii('1'));
    expect(request('PASSWD new=abc.def').args.size).toBe(1);
  });

  it('answers 413 for a too-long frame, without ID or CRC', () => {
    const r = rejection({ kind: 'too-long', length: 600 });
    expect(r).toEqual({ code: 413, reason: 'line-too-long', crc: false, msg: 'line of 600 bytes' });
  });

  it('answers 413 before anything else (bad bytes, bad CRC, unknown verb)', () => {
    const body = `@1 FROB \u0000${'x'.repeat(MAX_LINE_BYTES)}`;
    const r = rejectionOfBytes(ascii(`${body} *0000\r\n`));
    expect(r.code).toBe(413);
    expect(r).not.toHaveProperty('id');
    expect(r.crc).toBe(false);
  });

  it('answers 400 for bad bytes, with the byte and its offset, the ID and the CRC flag', () => {
    const r = rejectionOfBytes(
      Uint8Array.from([...ascii('@12 HELLO proto=1'), 0x00, ...ascii(' *ABCD\r\n')]),
    );
    expect(r).toEqual({
      code: 400,
      reason: 'syntax',
      id: '12',
      crc: true,
      msg: 'byte 0x00 at offset 17 is not printable ASCII',
    });
  });

  it('answers 400 for bad bytes in a line that may hold a password without saying which byte or where', () => {
    for (const head of ['@12 LOGIN user=admin password=P', 'PASSWD old=x new=', 'LOGN admin P', 'admin:P']) {
      const r = rejectionOfBytes(Uint8Array.from([...ascii(head), 0xe4, ...ascii('ssword1 *ABCD\r\n')]));
      expect(r, head).toMatchObject({
        code: 400,
        reason: 'syntax',
        msg: 'a byte outside printable ASCII (0x20-0x7E)',
      });
      expect(r.key, head).toBeUndefined();
    }
  });

  it('answers 400 for bad bytes without an ID or CRC flag when the line has none', () => {
    const r = rejectionOfBytes(Uint8Array.from([...ascii('HELLO'), 0xff, 0x0a]));
    expect(r).toEqual({
      code: 400,
      reason: 'syntax',
      crc: false,
      msg: 'byte 0xFF at offset 5 is not printable ASCII',
    });
  });

  it('puts bad bytes (400) before a bad CRC (460)', () => {
    const r = rejectionOfBytes(Uint8Array.from([...ascii('@3 HELLO '), 0x7f, ...ascii(' *0000\n')]));
    expect(r.code).toBe(400);
    expect(r.id).toBe('3');
  });

  it('answers 460 for a bad CRC, echoing the ID and carrying a CRC', () => {
    const r = rejection('@31 HELLO *0000');
    expect(r).toMatchObject({ code: 460, reason: 'bad-crc', id: '31', crc: true });
  });

  it('puts a bad CRC (460) before an unknown verb (404) and bad arguments (400)', () => {
    expect(rejection('@1 FROB *0000').code).toBe(460);
    expect(rejection('@1 LOGIN user=admin user=x *0000').code).toBe(460);
    expect(rejection('@1 LOGIN user= *0000').code).toBe(460);
  });

  it('answers 404 for an unknown verb, echoing the ID and the CRC flag', () => {
    expect(rejection('@8 FROB')).toMatchObject({ code: 404, reason: 'unknown-command', id: '8', crc: false });
    const text = `@8 FROB *${crcOf('@8 FROB')}`;
    expect(rejection(text)).toMatchObject({ code: 404, id: '8', crc: true });
  });

  it('puts an unknown verb (404) before bad arguments (400)', () => {
    for (const text of [
      'FROB a=1 a=1',
      'FROB value=',
      'FROB USER=x',
      'FROB name="unterminated',
      'FROB name="a\\qb"',
      'FROB user=admin extra',
      'FROB EXTRA WORDS',
    ]) {
      expect(rejection(text).code, text).toBe(404);
    }
  });

  it('cuts an unknown verb to 64 characters in its message', () => {
    const verb = `X${'Y'.repeat(200)}`;
    const r = rejection(verb);
    expect(r.code).toBe(404);
    expect(r.msg).toBe(`unknown command ${verb.slice(0, MAX_ECHOED_KEY)}`);
  });

  it('answers 400 key=NAME for a repeated argument', () => {
    expect(rejection('@2 LOGIN user=admin user=01 password=abcdef')).toMatchObject({
      code: 400,
      reason: 'syntax',
      key: 'user',
      id: '2',
    });
  });

  it('answers 400 key=NAME for an unknown argument, cut to 64 characters', () => {
    expect(rejection('HELLO color=red')).toMatchObject({ code: 400, reason: 'syntax', key: 'color' });
    const long = `k${'x'.repeat(99)}`;
    const r = rejection(`HELLO ${long}=1`);
    expect(r.key).toBe(long.slice(0, 64));
    expect(r.key).toHaveLength(MAX_ECHOED_KEY);
  });

  it('cuts a malformed key to 64 characters too', () => {
    const long = `K${'X'.repeat(99)}`;
    const r = rejection(`HELLO ${long}=1`);
    expect(r).toMatchObject({ code: 400, reason: 'syntax' });
    expect(r.key).toBe(long.slice(0, 64));
  });

  it('answers 400 key=NAME for a missing required argument', () => {
    expect(rejection('LOGIN user=admin')).toMatchObject({ code: 400, reason: 'syntax', key: 'password' });
    expect(rejection('LOGIN password=abcdef')).toMatchObject({ code: 400, key: 'user' });
    expect(rejection('INIT merchant=123456789012345')).toMatchObject({ code: 400, key: 'terminal' });
    expect(rejection('PASSWD old=abcdef')).toMatchObject({ code: 400, key: 'new' });
    expect(rejection('RESET')).toMatchObject({ code: 400, key: 'confirm' });
  });

  it('answers 400 for a value that breaks the grammar, naming its key', () => {
    expect(rejection('@4 LOGIN user=admin password=a"b')).toMatchObject({
      code: 400,
      key: 'password',
      id: '4',
    });
  });

  it('answers 400 for extra words after the verb', () => {
    const r = rejection('HELLO THERE');
    expect(r).toMatchObject({ code: 400, reason: 'syntax' });
    expect(r).not.toHaveProperty('key');
  });

  it('answers 400 without an ID when the ID is malformed', () => {
    for (const text of [
      '@123456789 HELLO',
      '@ HELLO',
      '@12a HELLO',
      '@-1 HELLO',
      '@1.5 HELLO',
      '@@1 HELLO',
    ]) {
      const r = rejection(text);
      expect(r.code, text).toBe(400);
      expect(r, text).not.toHaveProperty('id');
    }
  });

  it('answers 400 with the CRC flag for a malformed ID on a line with a good CRC', () => {
    const body = '@123456789 HELLO';
    expect(rejection(`${body} *${crcOf(body)}`)).toMatchObject({ code: 400, crc: true });
  });

  it('answers 400 for a malformed CRC token', () => {
    expect(rejection('@6 HELLO *12G4')).toMatchObject({ code: 400, reason: 'syntax', id: '6', crc: false });
  });

  it('never echoes an ID or a key that is not in the line', () => {
    const r = rejection('STATUS x=1');
    expect(r).not.toHaveProperty('id');
    expect(r.key).toBe('x');
  });
});

describe('parseReply', () => {
  it('reads DATA with an ID', () => {
    const result = parseReply('@3 DATA id=01 name="Initial account" perms=sale,refund must_change=1');
    expect(result).toEqual({
      ok: true,
      reply: {
        kind: 'data',
        id: '3',
        fields: { id: '01', name: 'Initial account', perms: 'sale,refund', must_change: '1' },
        crc: false,
      },
    });
  });

  it('reads OK with a CRC', () => {
    const body = '@4 OK user=admin must_change=1';
    expect(parseReply(`${body} *${crcOf(body)}`)).toEqual({
      ok: true,
      reply: { kind: 'ok', id: '4', fields: { user: 'admin', must_change: '1' }, crc: true },
    });
  });

  it('reads ERR', () => {
    expect(parseReply('ERR code=401 reason=bad-credentials remaining=4 msg="wrong password"')).toEqual({
      ok: true,
      reply: {
        kind: 'err',
        fields: { code: '401', reason: 'bad-credentials', remaining: '4', msg: 'wrong password' },
        crc: false,
      },
    });
  });

  it('reads EVT with its name', () => {
    expect(parseReply('EVT lockout retry_after=300')).toEqual({
      ok: true,
      reply: { kind: 'evt', event: 'lockout', fields: { retry_after: '300' }, crc: false },
    });
    expect(parseReply('EVT boot')).toMatchObject({
      ok: true,
      reply: { kind: 'evt', event: 'boot', fields: {} },
    });
  });

  it('reads keys it does not know without failing (forward compatibility)', () => {
    const result = parseReply('OK proto=1 future.thing="x y" model=T1 zz_new=7');
    expect(result).toMatchObject({ ok: true, reply: { kind: 'ok', fields: { proto: '1', model: 'T1' } } });
  });

  it('keeps the first of a repeated key', () => {
    expect(parseReply('OK a=1 a=2')).toMatchObject({ ok: true, reply: { fields: { a: '1' } } });
  });

  it('does not trip over keys named like Object prototype members', () => {
    const result = parseReply('OK constructor=1 hasownproperty=2 tostring=3');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.reply.fields.constructor).toBe('1');
  });

  it('decodes UTF-8 text and shows invalid UTF-8 as U+FFFD', () => {
    expect(parseReply('OK name="Caf\\xC3\\xA9" bad="\\xFF"')).toMatchObject({
      ok: true,
      reply: { fields: { name: 'Café', bad: '\ufffd' } },
    });
  });

  it('rejects an EVT with an ID', () => {
    expect(parseReply('@1 EVT boot')).toMatchObject({ ok: false, crcBad: false });
  });

  it('rejects an EVT without a name and replies with extra words', () => {
    expect(parseReply('EVT').ok).toBe(false);
    expect(parseReply('EVT boot again').ok).toBe(false);
    expect(parseReply('OK fine').ok).toBe(false);
    expect(parseReply('ERR x code=400').ok).toBe(false);
  });

  it('rejects lines that are not replies', () => {
    expect(parseReply('HELLO proto=1')).toMatchObject({ ok: false, crcBad: false });
    expect(parseReply('').ok).toBe(false);
  });

  it('says when the CRC was bad', () => {
    expect(parseReply('@1 OK *0000')).toMatchObject({ ok: false, crcBad: true });
    expect(parseReply('@1 OK x="').ok).toBe(false);
  });

  it('reads what encodeOk, encodeData, encodeErr and encodeEvent write', () => {
    const ctx = { id: '9', crc: true };
    expect(
      parseReply(
        encodeOk(ctx, [
          ['state', 'initialized'],
          ['changed', 1],
        ]),
      ),
    ).toEqual({
      ok: true,
      reply: { kind: 'ok', id: '9', fields: { state: 'initialized', changed: '1' }, crc: true },
    });
    expect(parseReply(encodeData({ crc: false }, [['name', 'Initial account']]))).toEqual({
      ok: true,
      reply: { kind: 'data', fields: { name: 'Initial account' }, crc: false },
    });
    expect(parseReply(encodeErr(ctx, 422, 'invalid-value', [['key', 'merchant']]))).toEqual({
      ok: true,
      reply: {
        kind: 'err',
        id: '9',
        fields: { code: '422', reason: 'invalid-value', key: 'merchant' },
        crc: true,
      },
    });
    expect(encodeEvent('state', [['state', 'factory']], false)).toBe('EVT state state=factory');
    expect(parseReply(encodeEvent('boot', [['sn', 'SN1']], true))).toEqual({
      ok: true,
      reply: { kind: 'evt', event: 'boot', fields: { sn: 'SN1' }, crc: true },
    });
  });
});

describe('maskLine', () => {
  const SECRET = 'Zq9-secret.value';

  function expectMasked(text: string, secrets: string[]): string {
    const masked = maskLine(text);
    for (const secret of secrets) expect(masked, text).not.toContain(secret);
    expect(masked).toContain(MASK);
    return masked;
  }

  it('hides the LOGIN password', () => {
    expect(maskLine(`LOGIN user=admin password=${SECRET}`)).toBe('LOGIN user=admin password="***"');
  });

  it('hides a quoted LOGIN password with escapes', () => {
    const line = encodeLine({
      words: ['LOGIN'],
      fields: [
        ['user', '01'],
        ['password', 'my "pass" \\ wörd'],
      ],
    });
    expect(maskLine(line)).toBe('LOGIN user=01 password="***"');
  });

  it('hides PASSWD old, new and confirm', () => {
    const masked = expectMasked('PASSWD user=02 old=Old-pw.1 new=New-pw.2 confirm=New-pw.2', [
      'Old-pw',
      'New-pw',
    ]);
    expect(masked).toBe('PASSWD user=02 old="***" new="***" confirm="***"');
  });

  it('hides the USER-ADD password and keeps the rest', () => {
    expect(maskLine(`USER-ADD id=02 name="Ann Lee" perms=sale,query password=${SECRET}`)).toBe(
      'USER-ADD id=02 name="Ann Lee" perms=sale,query password="***"',
    );
  });

  it('hides the SET value of settle.account, in either field order', () => {
    expect(maskLine('SET key=settle.account value=DE89370400440532013000')).toBe(
      'SET key=settle.account value="***"',
    );
    expect(maskLine('SET value=DE89370400440532013000 key=settle.account')).toBe(
      'SET value="***" key=settle.account',
    );
  });

  it('keeps other SET values, and GET', () => {
    expect(maskLine('SET key=net.apn value=internet.example')).toBe('SET key=net.apn value=internet.example');
    expect(maskLine('SET key=host.addr value=10.0.0.1')).toBe('SET key=host.addr value=10.0.0.1');
    expect(maskLine('GET key=settle.account')).toBe('GET key=settle.account');
  });

  it('keeps the masked account in a reply as the terminal wrote it', () => {
    const reply = encodeOk({ id: '3', crc: true }, [
      ['key', 'settle.account'],
      ['value', '****3000'],
    ]);
    expect(reply).toContain('value="****3000"');
    expect(maskLine(reply)).toBe(reply);
  });

  it('keeps the serial number of RESET confirm= (not a secret)', () => {
    expect(maskLine('RESET confirm=SN12345')).toBe('RESET confirm=SN12345');
  });

  it('returns a line with nothing secret unchanged, byte for byte', () => {
    for (const text of [
      '  HELLO   proto=1 ',
      'STATUS',
      '@1 OK user=admin must_change=0',
      'EVT boot sn=X1',
      'garbage "',
    ]) {
      expect(maskLine(text)).toBe(text);
    }
  });

  it('keeps the ID and recomputes the CRC so the masked line still verifies', () => {
    const text = encodeLine({
      id: '17',
      words: ['LOGIN'],
      fields: [
        ['user', 'admin'],
        ['password', SECRET],
      ],
      crc: true,
    });
    const masked = maskLine(text);
    expect(masked).not.toContain(SECRET);
    expect(masked).toBe(appendCrc('@17 LOGIN user=admin password="***"'));
    expect(parsed(masked)).toMatchObject({ id: '17', crc: true });
  });

  it('hides secrets on lower-case verbs', () => {
    expect(maskLine(`login user=admin password=${SECRET}`)).toBe('login user=admin password="***"');
    expect(maskLine('set key=settle.account value=DE89370400440532013000')).toBe(
      'set key=settle.account value="***"',
    );
  });

  it('hides password= in garbage lines', () => {
    const garbage = [
      `LOGIN user=admin password=${SECRET}"x`,
      `LOGIN user=admin password="${SECRET} and more`,
      `@5 LOGIN user=admin password=${SECRET} *0000`,
      `LOGIN user=admin password=${SECRET} USER=x`,
      `FROB password=${SECRET}`,
      `frob  user=admin   password="${SECRET}"`,
      `password=${SECRET}`,
      `LOGIN password=${SECRET} password=${SECRET}2`,
      `HELLO password=${SECRET}`,
      `USER-SET id=02 password=${SECRET}`,
      `PASSWD new="${SECRET}\\q"`,
      `@123456789 PASSWD old=${SECRET} new=${SECRET}`,
    ];
    for (const text of garbage) expectMasked(text, [SECRET]);
  });

  it('hides value= in garbage lines (it may be the settlement account)', () => {
    expectMasked('SET key=settle.account value=DE89370400440532013000"', ['DE89370400440532013000']);
    expectMasked('SET key=settle.account value=DE89370400440532013000 *0000', ['DE89370400440532013000']);
  });

  it('hides the settlement account on a mistyped or malformed request that parses', () => {
    for (const text of [
      'SETT key=settle.account value=DE89370400440532013000',
      'GET key=settle.account value=DE89370400440532013000',
      '@2 set  value=DE89370400440532013000   key=settle.account',
    ]) {
      expectMasked(text, ['DE89370400440532013000']);
    }
  });

  it('masks the free forms a person types for a login or a password change', () => {
    const pw = 'Qz7-secret.value';
    const cases: [string, string][] = [
      [`login admin ${pw}`, 'login admin ***'],
      [`LOGIN user=admin passwd=${pw}`, 'LOGIN user=admin passwd=***'],
      [`login user=admin pass=${pw}`, 'login user=admin pass=***'],
      [`LOGIN pw=${pw}`, 'LOGIN pw=***'],
      [`login pwd=${pw}`, 'login pwd=***'],
      [`LOGIN user=admin PASSWORD=${pw}`, 'LOGIN user=admin PASSWORD=***'],
      [`passwd ${pw} ${pw}2`, 'passwd *** ***'],
      [`admin:${pw}`, 'admin:***'],
      [`login admin:${pw}`, 'login admin:***'],
      [`LOGIN user=admin:${pw} password=x`, 'LOGIN user="***" password="***"'],
      [`password ${pw}`, 'password ***'],
      [`login admin password ${pw}`, 'login admin password ***'],
      [`login admin password`, 'login admin ***'],
      [`LGOIN user=admin password=${pw}`, 'LGOIN user=admin password=***'],
      [`LOGN admin ${pw}`, 'LOGN admin ***'],
      [`login admin ab=${pw}`, 'login admin ***'],
      [`login admin "${pw} x"`, 'login admin ***'],
      [`"LOGIN user=admin password=${pw}`, '***'],
      [`@12 LOGIN user=admin password=${pw} extra *ABCD`, '@12 LOGIN user=admin password=*** *** *????'],
    ];
    for (const [line, masked] of cases) expect(maskLine(line), line).toBe(masked);
  });

  it('leaves what is no secret: the counts of DIAG, other verbs, account names', () => {
    for (const line of [
      '@3 OK pass=11 warn=1 fail=0 *ABCD',
      'DATA check=printer status=pass',
      'LOGOUT',
      'USER-SET id=02 name=Bob perms=sale',
      'TIME utc=2024-01-01T00:00:00Z',
      'LOGIN user=01 password=***',
    ]) {
      expect(maskLine(line), line).toBe(line);
    }
    expect(maskLineDetailed('LOGIN user=admin password=abc123').secrets).toContain('abc123');
  });

  it('never throws on odd input', () => {
    for (const text of [
      '',
      ' ',
      '@',
      '*',
      '"',
      '\\',
      '=',
      'password=',
      'password="',
      '\u0000\u00ff',
      'OK =',
    ]) {
      expect(() => maskLine(text)).not.toThrow();
    }
  });
});

describe('password policy', () => {
  const ok = 'Tr4in-Station';

  it('accepts a good password', () => {
    expect(checkPassword(ok)).toBeUndefined();
    expect(checkPassword(ok, 'something-else')).toBeUndefined();
    expect(checkPassword('my pass phrase')).toBeUndefined();
    expect(checkPassword(' !~~! ')).toBeUndefined();
  });

  it('is 6 to 32 characters', () => {
    expect([PASSWORD_MIN, PASSWORD_MAX]).toEqual([6, 32]);
    expect(checkPassword('')).toBe('length');
    expect(checkPassword('aB3$x')).toBe('length');
    expect(checkPassword('aB3$xy')).toBeUndefined();
    expect(checkPassword(`aB3$x${'y'.repeat(27)}`)).toBeUndefined();
    expect(checkPassword(`aB3$x${'y'.repeat(28)}`)).toBe('length');
  });

  it('allows printable ASCII only', () => {
    expect(checkPassword('abc\tdef')).toBe('not-printable');
    expect(checkPassword('abc\u007fdef')).toBe('not-printable');
    expect(checkPassword('abc\u0000def')).toBe('not-printable');
    expect(checkPassword('pässwort')).toBe('not-printable');
    expect(checkPassword('密码密码密码')).toBe('not-printable');
    expect(checkPassword('ab\u001f')).toBe('not-printable');
  });

  it('rejects every known POS default', () => {
    expect(KNOWN_DEFAULT_PASSWORDS).toEqual(['1234', '123456', '0000', '000000', '12345678']);
    for (const password of KNOWN_DEFAULT_PASSWORDS) expect(checkPassword(password)).toBeDefined();
    expect(checkPassword('123456')).toBe('known-default');
    expect(checkPassword('000000')).toBe('known-default');
    expect(checkPassword('12345678')).toBe('known-default');
  });

  it('rejects one repeated character', () => {
    for (const password of ['aaaaaa', '777777', '        ', 'z'.repeat(32), '########']) {
      expect(checkPassword(password), password).toBe('repeated');
    }
  });

  it('rejects straight runs up and down', () => {
    for (const password of [
      '234567',
      '3456789',
      'abcdefg',
      'ABCDEF',
      'mnopqrstuv',
      '654321',
      '987654',
      'fedcba',
      'ZYXWVU',
    ]) {
      expect(checkPassword(password), password).toBe('straight-run');
    }
  });

  it('only rejects a run or repetition of the whole password', () => {
    for (const password of ['123457', '123321', '121212', 'aaaaab', 'abcdeg', '6543210x']) {
      expect(checkPassword(password), password).toBeUndefined();
    }
  });

  it('rejects the old password', () => {
    expect(checkPassword(ok, ok)).toBe('same-as-old');
  });

  it('explains every problem', () => {
    const problems: PasswordProblem[] = [
      'length',
      'not-printable',
      'known-default',
      'repeated',
      'straight-run',
      'same-as-old',
    ];
    expect(Object.keys(PASSWORD_PROBLEM_TEXT).sort()).toEqual([...problems].sort());
    for (const problem of problems) expect(PASSWORD_PROBLEM_TEXT[problem].length).toBeGreaterThan(0);
  });
});

describe('validators', () => {
  it('merchant numbers are exactly 15 digits', () => {
    expect(MERCHANT_NUMBER.test('123456789012345')).toBe(true);
    for (const bad of ['12345678901234', '1234567890123456', '12345678901234a', ' 123456789012345', '']) {
      expect(MERCHANT_NUMBER.test(bad), bad).toBe(false);
    }
  });

  it('terminal numbers are exactly 8 digits', () => {
    expect(TERMINAL_NUMBER.test('00000001')).toBe(true);
    for (const bad of ['1234567', '123456789', '1234567x', ''])
      expect(TERMINAL_NUMBER.test(bad), bad).toBe(false);
  });

  it('operator IDs are two digits 01-99', () => {
    for (const good of ['01', '09', '10', '99']) expect(OPERATOR_ID.test(good), good).toBe(true);
    for (const bad of ['00', '1', '100', '1a', '', ' 01']) expect(OPERATOR_ID.test(bad), bad).toBe(false);
  });

  it('parseUtc reads real instants', () => {
    expect(parseUtc('2026-02-28T23:59:59Z')).toBe(Date.UTC(2026, 1, 28, 23, 59, 59));
    expect(parseUtc('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseUtc('1970-01-01T00:00:00Z')).toBe(0);
  });

  it('parseUtc rejects what is not a real instant or not the exact format', () => {
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T23:60:00Z',
      '2026-01-01T23:59:60Z',
      '2026-01-01T00:00:00',
      '2026-01-01t00:00:00z',
      '2026-01-01 00:00:00Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00+00:00',
      '26-01-01T00:00:00Z',
      '',
    ]) {
      expect(parseUtc(bad), bad).toBeUndefined();
    }
  });

  it('formatUtc writes what parseUtc reads, for every year 0000-9999', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        (y, mo, d, h, mi, s) => {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}Z`;
          const ms = parseUtc(text);
          expect(ms, text).toBeDefined();
          expect(formatUtc(ms!), text).toBe(text);
        },
      ),
      { numRuns: 1000 },
    );
    expect(formatUtc(parseUtc('2026-05-01T12:34:56Z')! + 999)).toBe('2026-05-01T12:34:56Z');
  });

  it('host addresses are host names or IPv4 addresses of at most 253 characters', () => {
    const label = 'a'.repeat(63);
    const longest = [label, label, label, 'b'.repeat(61)].join('.');
    expect(longest).toHaveLength(253);
    for (const good of [
      'host.example.com',
      'localhost',
      '10.0.0.1',
      '255.255.255.255',
      'a-b.c0',
      'X1',
      longest,
    ]) {
      expect(isHostAddress(good), good).toBe(true);
    }
    for (const bad of [
      '',
      '256.1.1.1',
      '1.2.3.4.',
      '-bad.example',
      'bad-.example',
      'a..b',
      '.a',
      'under_score.com',
      'host:80',
      'a b',
      `${'a'.repeat(64)}.com`,
      `${longest}c`,
      '0001.2.3.4',
      // docs/protocol.md D48: IPv4 parts are written without leading zeros.
      '010.0.0.1',
      '10.0.0.01',
      '10.00.0.1',
    ]) {
      expect(isHostAddress(bad), bad).toBe(false);
    }
  });

  it('a mistyped IPv4 address is not taken for a host name (a name never ends in an all-digit label)', () => {
    for (const bad of ['10.0.0.1.5', '10.0.1', '192.168.1.', '1.2.3.4.5.6', '12345']) {
      expect(isHostAddress(bad), bad).toBe(false);
    }
    for (const good of ['host1.example', '3com.com', '1.example.com', '10-0-0-1.example.net']) {
      expect(isHostAddress(good), good).toBe(true);
    }
  });

  it('permissions are a non-empty set of the five, returned in canonical order', () => {
    expect(PERMISSIONS).toEqual(['sale', 'refund', 'query', 'report', 'settings']);
    expect(parsePermissions('settings,sale')).toEqual(['sale', 'settings']);
    expect(parsePermissions('settings,report,query,refund,sale')).toEqual([...PERMISSIONS]);
    expect(parsePermissions('query')).toEqual(['query']);
    for (const bad of ['', 'sale,sale', 'sale,,refund', 'Sale', 'admin', ' sale', 'sale,', ',sale']) {
      expect(parsePermissions(bad), bad).toBeUndefined();
    }
  });

  it('maskAccount shows **** and the last four', () => {
    expect(maskAccount('DE89370400440532013000')).toBe('****3000');
    expect(maskAccount('12345678')).toBe('****5678');
    expect(maskAccount('')).toBe('');
    expect(showSetting('settle.account', 'DE89370400440532013000')).toBe('****3000');
    expect(showSetting('net.apn', 'internet')).toBe('internet');
  });

  it('integers are decimal without sign or leading zeros, within range', () => {
    expect(parseIntegerIn('0', 0, 99)).toBe(0);
    expect(parseIntegerIn('99', 0, 99)).toBe(99);
    expect(parseIntegerIn('65535', 1, 65535)).toBe(65535);
    for (const bad of ['100', '007', '-1', '+1', '1e3', '1.0', '', ' 1', '0x10']) {
      expect(parseIntegerIn(bad, 0, 99), bad).toBeUndefined();
    }
    expect(parseIntegerIn('0', 1, 65535)).toBeUndefined();
  });

  it('text lengths count UTF-8 bytes', () => {
    expect(utf8Length('Café')).toBe(5);
    expect(isTextWithin('x'.repeat(32), 1, 32)).toBe(true);
    expect(isTextWithin(`${'x'.repeat(31)}é`, 1, 32)).toBe(false);
    expect(isTextWithin('', 1, 32)).toBe(false);
  });

  it('settings rules accept their factory values or unset', () => {
    for (const [key, spec] of Object.entries(SETTINGS)) {
      if (spec.factory !== '') expect(spec.parse(spec.factory), key).toBe(spec.factory);
    }
    expect(SETTINGS['settle.account'].secret).toBe(true);
  });
});

describe('tables', () => {
  it('every diagnostic hint is at most 120 bytes as written and every code is warn or fail', () => {
    expect(MAX_FREE_TEXT).toBe(120);
    expect(DIAG_CHECK_ORDER).toEqual([
      'power',
      'clock',
      'storage',
      'software',
      'keys',
      'network',
      'host',
      'printer',
      'msr',
      'icc',
      'nfc',
      'tamper',
    ]);
    let count = 0;
    for (const check of DIAG_CHECK_ORDER) {
      for (const [code, spec] of Object.entries(DIAG_CHECKS[check].codes)) {
        count++;
        expect(encodeValue(spec.hint).length, `${check}:${code} as written`).toBeLessThanOrEqual(
          MAX_FREE_TEXT,
        );
        expect(spec.hint.length).toBeGreaterThan(0);
        expect(['warn', 'fail']).toContain(spec.status);
        expect(diagCode(check, code)).toBe(spec);
        // A DATA line carrying the longest hint stays inside the line limit, escapes included.
        const line = encodeData({ id: '12345678', crc: true }, [
          ['check', check],
          ['status', spec.status],
          ['code', code],
          ['hint', spec.hint],
          ['ms', 99999],
        ]);
        expect(line.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
      }
    }
    expect(count).toBeGreaterThanOrEqual(DIAG_CHECK_ORDER.length);
    expect(diagCode('printer', 'constructor')).toBeUndefined();
    expect(diagCode('printer', 'no_such_code')).toBeUndefined();
  });

  it('the failure codes the design names exist', () => {
    expect(diagCode('printer', 'paper_out')?.status).toBe('fail');
    expect(diagCode('printer', 'cover_open')).toBeDefined();
    expect(diagCode('network', 'no_link')).toBeDefined();
    expect(diagCode('network', 'no_sim')).toBeDefined();
    expect(diagCode('software', 'missing_component')).toBeDefined();
    expect(diagCode('storage', 'corrupt')).toBeDefined();
    expect(diagCode('tamper', 'tampered')).toBeDefined();
    expect(diagCode('clock', 'not_set')?.status).toBe('warn');
    expect(diagCode('host', 'not_configured')?.status).toBe('warn');
  });

  it('every error slug is unique and belongs to its code', () => {
    const all: string[] = [];
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      for (const slug of entry.slugs) {
        all.push(slug);
        expect(codeOfSlug(slug as ErrorSlug)).toBe(Number(code));
        expect(slug).toMatch(/^[a-z]+(-[a-z]+)*$/);
      }
      expect(isErrorCode(Number(code))).toBe(true);
    }
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(19);
    expect(isErrorCode(418)).toBe(false);
    expect([...NOT_REPLAYED].sort()).toEqual([400, 413, 460, 503]);
  });

  it('the command table has the design’s verbs, upper case, with bare-token argument names', () => {
    expect([...VERBS].sort()).toEqual(
      [
        'HELLO',
        'STATUS',
        'LOGIN',
        'LOGOUT',
        'PASSWD',
        'INIT',
        'GET',
        'SET',
        'TIME',
        'USER-ADD',
        'USER-SET',
        'USER-DEL',
        'USER-LIST',
        'DIAG',
        'REBOOT',
        'RESET',
      ].sort(),
    );
    for (const verb of VERBS) {
      expect(verb).toMatch(/^[A-Z][A-Z-]*$/);
      for (const key of Object.keys(COMMANDS[verb].args)) expect(key).toMatch(/^[a-z][a-z0-9_.]*$/);
    }
    expect([...CAPABILITIES]).toEqual([
      'crc',
      'replay',
      'users',
      'settings',
      'time',
      'diag',
      'reboot',
      'reset',
    ]);
  });

  it('every secret argument is masked by maskLine', () => {
    for (const verb of VERBS) {
      const args = Object.entries(COMMANDS[verb].args) as [string, { required: boolean; secret?: boolean }][];
      const fields = args.map(([key], i) => [key, `Val${i}-xyz`] as const);
      const masked = maskLine(encodeLine({ words: [verb], fields }));
      args.forEach(([key, spec], i) => {
        if (spec.secret) expect(masked, `${verb} ${key}`).not.toContain(`Val${i}-xyz`);
      });
    }
  });
});

describe('decodeText', () => {
  it('is strict UTF-8', () => {
    expect(decodeText(enc.encode('Café'))).toBe('Café');
    expect(decodeText(Uint8Array.from([0xc3]))).toBeUndefined();
    expect(decodeText(Uint8Array.from([0xff]))).toBeUndefined();
  });
});
