/**
 * The reply codecs (src/protocol/reply-shape.ts, reply-codecs.ts, the shapes of the command
 * table): encode(decode(line)) gives back every terminal line of the worked examples and the
 * golden transcripts byte for byte; decoding names the field that does not fit and ignores keys it
 * does not know; and the table's field order is the one docs/protocol.md §15 writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/mock-device/replay/trace-file.js';
import {
  announcedDataLines,
  COMMANDS,
  decodeDataFields,
  decodeEventFields,
  decodeOkFields,
  ERR_REPLY,
  EVENTS,
  encodeLine,
  isEventName,
  lookupVerb,
  parseReply,
  type ReplyShape,
  VERBS,
  type Verb,
} from '../../src/protocol/index.js';

const fixtures = join(import.meta.dirname, '../fixtures');

interface Step {
  dir: 'C' | 'T';
  line: string;
}
interface ExamplesFile {
  setups: Record<string, { steps: Step[] }>;
  examples: Array<{ name: string; steps: Step[] }>;
}

/**
 * Terminal lines, each with the verb of its request: the host line with the same ID (a host may
 * send the next line before a reply comes, as after REBOOT), else the last host line.
 */
function terminalLines(steps: Array<{ host: boolean; line: string }>): Array<{ line: string; verb?: Verb }> {
  const out: Array<{ line: string; verb?: Verb }> = [];
  const byId = new Map<string, Verb | undefined>();
  let last: Verb | undefined;
  for (const step of steps) {
    const [, id, word] = /^ *(?:@([0-9]+) +)?([A-Za-z][A-Za-z0-9-]*)?/.exec(step.line) ?? [];
    if (step.host) {
      last = word === undefined ? undefined : lookupVerb(word);
      if (id !== undefined) byId.set(id, last);
    } else {
      const verb = id !== undefined && byId.has(id) ? byId.get(id) : last;
      out.push({ line: step.line, ...(verb !== undefined && { verb }) });
    }
  }
  return out;
}

const examples = JSON.parse(readFileSync(join(fixtures, 'tsp-examples.json'), 'utf8')) as ExamplesFile;
const exampleLines = [
  ...Object.values(examples.setups).map((setup) => setup.steps),
  ...examples.examples.map((example) => example.steps),
].flatMap((steps) => terminalLines(steps.map((s) => ({ host: s.dir === 'C', line: s.line }))));

const transcriptLines = readdirSync(join(fixtures, 'transcripts'))
  .filter((name) => name.endsWith('.trace'))
  .flatMap((name) =>
    terminalLines(
      parseTrace(readFileSync(join(fixtures, 'transcripts', name), 'utf8')).entries.map((e) => ({
        host: e.direction === '>',
        line: e.text,
      })),
    ),
  );

// biome-ignore lint/suspicious/noExplicitAny: a shape of any table.
function shapeOf(kind: string, verb: Verb | undefined, event: string | undefined): ReplyShape<any> {
  if (kind === 'err') return ERR_REPLY;
  if (kind === 'evt') {
    if (event === undefined || !isEventName(event)) throw new Error(`unknown event ${event}`);
    return EVENTS[event];
  }
  if (verb === undefined) throw new Error('a reply to no command');
  const spec = COMMANDS[verb];
  if (kind === 'ok') return spec.ok;
  if (!('data' in spec)) throw new Error(`${verb} sends no DATA`);
  return spec.data;
}

/** The line again from its decoded value: same ID, words, CRC mode; fields from the codec. */
function reencode(line: string, verb: Verb | undefined): string {
  const parsed = parseReply(line);
  if (!parsed.ok) throw new Error(`${line}: ${parsed.problem}`);
  const { reply } = parsed;
  const shape = shapeOf(reply.kind, verb, reply.event);
  const decoded = shape.decode(reply.fields);
  if (!decoded.ok) throw new Error(`${line}: ${decoded.problem.message}`);
  const words = reply.kind === 'evt' ? ['EVT', reply.event!] : [reply.kind.toUpperCase()];
  return encodeLine({ id: reply.id, words, fields: shape.encode(decoded.value), crc: reply.crc });
}

describe('encode(decode(line)) is the canonical line', () => {
  it('for every terminal line of the worked examples (docs/protocol.md §22)', () => {
    expect(exampleLines.length).toBeGreaterThan(100);
    for (const { line, verb } of exampleLines) expect(reencode(line, verb), line).toBe(line);
  });

  it('for every terminal line of the golden transcripts (test/fixtures/transcripts)', () => {
    expect(transcriptLines.length).toBeGreaterThan(100);
    for (const { line, verb } of transcriptLines) expect(reencode(line, verb), line).toBe(line);
  });
});

describe('decoding', () => {
  const status = {
    state: 'factory',
    login: 'none',
    must_change: '0',
    locked: '0',
    tamper: '0',
    factory_pw: 'admin,01',
  };

  it('names a required field that is missing', () => {
    const { state: _, ...noState } = status;
    expect(decodeOkFields('STATUS', noState)).toEqual({
      ok: false,
      problem: { key: 'state', fault: 'missing', message: 'without state=' },
    });
  });

  it('names a field that does not read, with what it should be', () => {
    expect(decodeOkFields('STATUS', { ...status, must_change: 'yes' })).toEqual({
      ok: false,
      problem: {
        key: 'must_change',
        fault: 'malformed',
        text: 'yes',
        message: 'must_change=yes is not 0 or 1',
      },
    });
    expect(decodeOkFields('STATUS', { ...status, state: 'weird' })).toMatchObject({
      problem: { message: 'state=weird is not factory or initialized' },
    });
    expect(decodeOkFields('TIME', { utc: '2025-02-30T00:00:00Z' })).toMatchObject({
      problem: { message: 'utc=2025-02-30T00:00:00Z is not YYYY-MM-DDTHH:MM:SSZ' },
    });
  });

  it('quotes at most 40 characters of a malformed value', () => {
    const decoded = decodeOkFields('HELLO', {
      proto: 'x'.repeat(300),
      model: 'M',
      sn: 'S',
      fw: 'F',
      state: 'factory',
      caps: '',
    });
    expect(decoded).toMatchObject({
      problem: { message: `proto=${'x'.repeat(40)}... is not a decimal number` },
    });
  });

  it('a malformed optional field is refused too; only DIAG ms (D51) is dropped', () => {
    expect(decodeOkFields('STATUS', { ...status, attempts_left: 'many' })).toMatchObject({
      problem: { key: 'attempts_left', fault: 'malformed' },
    });
    expect(decodeDataFields('DIAG', { check: 'keys', status: 'pass', ms: 'soon' })).toEqual({
      ok: true,
      value: { check: 'keys', status: 'pass' },
    });
  });

  it('ignores keys it does not know and leaves absent optional fields absent (docs/protocol.md §4)', () => {
    expect(decodeOkFields('STATUS', { ...status, future: 'x', 'net.thing': 'y' })).toEqual({
      ok: true,
      value: {
        state: 'factory',
        login: 'none',
        mustChange: false,
        locked: false,
        tamper: false,
        factoryPw: ['admin', '01'],
      },
    });
  });

  it('reads only the fields of the line, never inherited properties', () => {
    const inherited = Object.create({ user: 'admin', must_change: '0' }) as Record<string, string>;
    expect(decodeOkFields('LOGIN', inherited)).toMatchObject({ problem: { key: 'user', fault: 'missing' } });
  });

  it('reads the ERR line and the events', () => {
    expect(
      ERR_REPLY.decode({ code: '401', reason: 'bad-credentials', remaining: '4', msg: 'x', extra: '1' }),
    ).toEqual({ ok: true, value: { code: 401, reason: 'bad-credentials', remaining: 4, msg: 'x' } });
    expect(ERR_REPLY.decode({ reason: 'busy' })).toMatchObject({
      problem: { key: 'code', fault: 'missing' },
    });
    expect(decodeEventFields('lockout', { retry_after: '300' })).toEqual({
      ok: true,
      value: { retryAfter: 300 },
    });
    expect(decodeEventFields('boot', {})).toMatchObject({ problem: { message: 'without sn=' } });
  });

  it('counts the DATA lines an OK announces (USER-LIST count, DIAG pass+warn+fail)', () => {
    expect(announcedDataLines('USER-LIST', { count: '2' })).toBe(2);
    expect(announcedDataLines('DIAG', { pass: '10', warn: '1', fail: '1' })).toBe(12);
    expect(announcedDataLines('DIAG', { pass: '10', warn: '1' })).toBeUndefined();
    expect(announcedDataLines('STATUS', { count: '2' })).toBeUndefined();
  });
});

/** The OK and DATA lines of section 15, each as its keys in order and which are in [brackets]. */
function section15(): Map<string, Record<'OK' | 'DATA', Array<{ key: string; optional: boolean }>>> {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## 15. Commands'), doc.indexOf('## 16. Settings'));
  const commands = new Map<string, Record<'OK' | 'DATA', Array<{ key: string; optional: boolean }>>>();
  for (const part of section.split(/^### /m).slice(1)) {
    const verb = part.slice(0, part.indexOf('\n')).trim();
    const lines: Record<'OK' | 'DATA', Array<{ key: string; optional: boolean }>> = { OK: [], DATA: [] };
    for (const word of ['OK', 'DATA'] as const) {
      const span = new RegExp(`\`${word}((?: [^\`]*)?)\``).exec(part)?.[1] ?? '';
      let depth = 0;
      for (const token of span.split(' ')) {
        depth += (token.match(/\[/g) ?? []).length;
        const key = /^\[*([a-z_]+)=/.exec(token)?.[1];
        if (key) lines[word].push({ key, optional: depth > 0 });
        depth -= (token.match(/\]/g) ?? []).length;
      }
    }
    commands.set(verb, lines);
  }
  return commands;
}

describe('the command table and docs/protocol.md §15', () => {
  const documented = section15();

  // biome-ignore lint/suspicious/noExplicitAny: a shape of any table.
  const fieldsOf = (shape: ReplyShape<any> | undefined) =>
    shape === undefined
      ? []
      : Object.entries(shape.props).map(([, kind], i) => ({
          key: shape.keys[i]!,
          optional: (kind as { presence?: string }).presence !== undefined,
        }));

  it.each(VERBS)('%s: the same OK and DATA fields, in the same order, optional where bracketed', (verb) => {
    const spec = COMMANDS[verb];
    expect(documented.get(verb), `§15 has ### ${verb}`).toBeDefined();
    expect(fieldsOf(spec.ok)).toEqual(documented.get(verb)!.OK);
    expect(fieldsOf('data' in spec ? spec.data : undefined)).toEqual(documented.get(verb)!.DATA);
  });
});
