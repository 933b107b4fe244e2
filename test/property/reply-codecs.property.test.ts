/**
 * Each reply shape once (src/protocol/reply-shape.ts): for every command's OK and DATA line, the
 * ERR line and every event, decode(encode(x)) = x for arbitrary valid values, through the wire
 * (encodeLine, then parseReply as the host reads it), with unknown keys mixed in (docs/protocol.md
 * §4: ignored). Values are generated from the shapes themselves, so a new command or field is
 * covered without touching this file; a kind without a generator fails here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  ERR_REPLY,
  ERROR_CODES,
  EVENTS,
  encodeLine,
  parseReply,
  type ReplyShape,
  VERBS,
} from '../../src/protocol/index.js';
import {
  echo,
  type FieldKind,
  flag,
  int,
  list,
  noneOrList,
  text,
  utc,
} from '../../src/protocol/reply-shape.js';

const RUNS = { numRuns: 300 };
const utf8 = new TextEncoder();

/** Text of exactly `bytes` UTF-8 bytes, mostly multi-byte (the longest names, D47's bounds). */
const textOfBytes = (bytes: number) =>
  fc
    .array(fc.constantFrom('é', '€', '𝄞', 'a', '"', '\\', ' '), { minLength: bytes, maxLength: bytes })
    .map((chars) => {
      let out = '';
      for (const c of chars) if (utf8.encode(out + c).length <= bytes) out += c;
      return out + 'a'.repeat(bytes - utf8.encode(out).length);
    });

const textArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('"', '\\', ' ', '*', '=', ',', 'é', 'a', '0'), maxLength: 64 }),
  fc.constantFrom(32, 40, 64, 120).chain(textOfBytes),
  fc.constantFrom('', 'none', '0', '007', 'Café Nord'),
);
const item = fc.oneof(fc.stringMatching(/^[a-z0-9_]{1,12}$/), fc.string({ unit: 'grapheme', minLength: 1 }));
const listArb = fc.array(
  item.filter((s) => !s.includes(',')),
  { maxLength: 8 },
);
/** Whole seconds from year 1 to 9999: what `YYYY-MM-DDTHH:MM:SSZ` can hold. */
const utcArb = fc
  .integer({ min: Date.parse('0001-01-01T00:00:00Z') / 1000, max: Date.parse('9999-12-31T23:59:59Z') / 1000 })
  .map((s) => s * 1000);
const slugs = Object.values(ERROR_CODES).flatMap((entry) => [...entry.slugs]);

// Kinds are matched by their decode function: optional() and advisory() copy the kind.
// biome-ignore lint/suspicious/noExplicitAny: a table of kinds of every value type.
const ARBITRARIES = new Map<FieldKind<any, any>['decode'], fc.Arbitrary<unknown>>([
  [int.decode, fc.oneof(fc.nat({ max: 999_999_999 }), fc.constantFrom(0, 999_999_999))],
  [flag.decode, fc.boolean()],
  [text.decode, textArb],
  [echo.decode, textArb],
  [list.decode, listArb],
  [noneOrList.decode, listArb.filter((l) => !(l.length === 1 && l[0] === 'none'))],
  [utc.decode, utcArb],
  [ERR_REPLY.props.reason.decode, fc.constantFrom(...slugs)],
]);

// biome-ignore lint/suspicious/noExplicitAny: a shape of any table.
function arbitraryOf(kind: FieldKind<any, any> & { presence?: string }): fc.Arbitrary<unknown> {
  if (kind.values) return fc.constantFrom(...kind.values);
  const arb = ARBITRARIES.get(kind.decode);
  if (!arb) throw new Error(`no generator for a field that is ${kind.expected}`);
  return arb;
}

/** Valid values of a shape: optional fields present or absent (never undefined). */
// biome-ignore lint/suspicious/noExplicitAny: a shape of any table.
function valuesOf(shape: ReplyShape<any>): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(shape.props) as Array<[string, FieldKind<unknown> & { presence?: string }]>;
  return fc.record(Object.fromEntries(props.map(([prop, kind]) => [prop, arbitraryOf(kind)])), {
    requiredKeys: props.filter(([, kind]) => kind.presence === undefined).map(([prop]) => prop),
  });
}

/** Keys no shape knows, with any value: a receiver ignores them. */
const unknownFields = fc.array(fc.tuple(fc.stringMatching(/^x[a-z0-9_.]{0,20}$/), textArb), { maxLength: 3 });

const lineContext = fc.record({
  id: fc.option(fc.stringMatching(/^[0-9]{1,8}$/), { nil: undefined }),
  crc: fc.boolean(),
});

// biome-ignore lint/suspicious/noExplicitAny: a shape of any table.
function roundTrip(shape: ReplyShape<any>, words: string[], withId: boolean): void {
  fc.assert(
    fc.property(valuesOf(shape), unknownFields, lineContext, (value, extra, { id, crc }) => {
      const fields = shape.encode(value);
      // The table's order, fields left out only when optional and absent.
      expect(fields.map(([key]) => key)).toEqual(shape.keys.filter((key) => fields.some(([k]) => k === key)));
      const line = encodeLine({ id: withId ? id : undefined, words, fields: [...fields, ...extra], crc });
      const parsed = parseReply(line);
      if (!parsed.ok) throw new Error(`${line}: ${parsed.problem}`);
      // fc.record builds objects without a prototype; the decoder, plain ones.
      expect(shape.decode(parsed.reply.fields)).toStrictEqual({ ok: true, value: { ...value } });
    }),
    RUNS,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: shapes of every table.
type Case = [label: string, shape: ReplyShape<any>, words: string[], withId: boolean];
const CASES: Case[] = [
  ...VERBS.flatMap((verb): Case[] => {
    const spec = COMMANDS[verb];
    const ok: Case = [`${verb} OK`, spec.ok, ['OK'], true];
    return 'data' in spec ? [ok, [`${verb} DATA`, spec.data, ['DATA'], true]] : [ok];
  }),
  ['ERR', ERR_REPLY, ['ERR'], true],
  ...Object.entries(EVENTS).map(([name, shape]): Case => [`EVT ${name}`, shape, ['EVT', name], false]),
];

describe('decode(encode(x)) = x through the wire', () => {
  it.each(CASES)('%s', (_label, shape, words, withId) => roundTrip(shape, words, withId));

  it('covers every command, DATA for exactly USER-LIST and DIAG, the ERR line and the three events', () => {
    expect(CASES.map(([label]) => label)).toEqual([
      ...VERBS.flatMap((verb) =>
        verb === 'USER-LIST' || verb === 'DIAG' ? [`${verb} OK`, `${verb} DATA`] : [`${verb} OK`],
      ),
      'ERR',
      'EVT boot',
      'EVT state',
      'EVT lockout',
    ]);
  });
});
