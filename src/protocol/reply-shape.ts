/**
 * One shape per reply line, read both ways. A shape is a table of properties, each with the kind
 * of its value, in the order a terminal writes them (docs/protocol.md §15); `encode` (a typed value
 * to ordered fields, for the terminal) and `decode` (received fields to a typed value, for the
 * host) both follow from it, so the two ends cannot disagree about a reply.
 *
 * A property's wire key is its name in snake_case (`mustChange` is `must_change`). Decoding
 * ignores keys the shape does not know (§4: forward compatibility) and names the field when a
 * required one is missing or a present one does not read as its kind.
 */
import { formatUtc, parseUtc } from './validators.js';
import type { ValueInput } from './value-codec.js';

/** Fields in the order they are written. */
export type FieldList = ReadonlyArray<readonly [string, ValueInput]>;

/** A received line's fields as text, the first occurrence of each key (parseReply). */
export type ReceivedFields = Readonly<Record<string, string>>;

/** How one field's text maps to a typed value and back; `In` is what encode accepts. */
export interface FieldKind<T, In = T> {
  /** What a well-formed value looks like, for the message that names a malformed one. */
  readonly expected: string;
  encode(value: In): ValueInput;
  /** undefined when the text does not read as this kind. */
  decode(text: string): T | undefined;
  /** A closed set (oneOf): every value it takes. */
  readonly values?: readonly string[];
}

/**
 * A field that may be absent. `advisory`: also dropped when it does not read, for a field a
 * receiver must not depend on (DIAG `ms`, docs/protocol.md D51).
 */
export interface OptionalKind<T, In = T> extends FieldKind<T, In> {
  readonly presence: 'optional' | 'advisory';
}

export function optional<T, In>(kind: FieldKind<T, In>): OptionalKind<T, In> {
  return { ...kind, presence: 'optional' };
}

export function advisory<T, In>(kind: FieldKind<T, In>): OptionalKind<T, In> {
  return { ...kind, presence: 'advisory' };
}

/** A decimal number (§5). Leading zeros, which a terminal never writes, are read all the same. */
export const int: FieldKind<number> = {
  expected: 'a decimal number',
  encode: (n) => n,
  decode: (text) => (/^[0-9]{1,9}$/.test(text) ? Number(text) : undefined),
};

export const flag: FieldKind<boolean> = {
  expected: '0 or 1',
  encode: (on) => (on ? 1 : 0),
  decode: (text) => (text === '1' ? true : text === '0' ? false : undefined),
};

/** Any text (names are UTF-8, §5). */
export const text: FieldKind<string> = { expected: 'text', encode: (s) => s, decode: (s) => s };

/**
 * Bytes a terminal echoes (an unknown key or check, cut as written: D47): it may echo any bytes
 * it received; a host reads them as text.
 */
export const echo: FieldKind<string, string | Uint8Array> = {
  expected: 'text',
  encode: (value) => value,
  decode: (s) => s,
};

export function oneOf<const V extends readonly string[]>(values: V): FieldKind<V[number]> {
  return {
    values,
    expected: `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`,
    encode: (value) => value,
    decode: (s) => (values.includes(s) ? (s as V[number]) : undefined),
  };
}

/** A comma-separated list; `""` is the empty list. */
export const list: FieldKind<string[], readonly string[]> = {
  expected: 'a comma-separated list',
  encode: (items) => items.join(','),
  decode: (s) => (s === '' ? [] : s.split(',')),
};

/** A comma-separated list that says `none` when empty (STATUS `factory_pw`). */
export const noneOrList: FieldKind<string[], readonly string[]> = {
  expected: 'none or a comma-separated list',
  encode: (items) => (items.length === 0 ? 'none' : items.join(',')),
  decode: (s) => (s === 'none' ? [] : list.decode(s)),
};

/** An instant as `YYYY-MM-DDTHH:MM:SSZ`, in epoch milliseconds (whole seconds once encoded). */
export const utc: FieldKind<number> = {
  expected: 'YYYY-MM-DDTHH:MM:SSZ',
  encode: formatUtc,
  decode: parseUtc,
};

// biome-ignore lint/suspicious/noExplicitAny: a table holds kinds of every value type.
type AnyKind = FieldKind<any, any>;
export type Props = Readonly<Record<string, AnyKind>>;

type OptionalKeys<P> = { [K in keyof P]: P[K] extends { presence: string } ? K : never }[keyof P];
type RequiredKeys<P> = Exclude<keyof P, OptionalKeys<P>>;
// biome-ignore lint/suspicious/noExplicitAny: only the decoded type is inferred here.
type DecodedType<F> = F extends FieldKind<infer T, any> ? T : never;
// biome-ignore lint/suspicious/noExplicitAny: only the encoded type is inferred here.
type EncodedType<F> = F extends FieldKind<any, infer I> ? I : never;
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** What `decode` gives: optional fields that were absent are absent. */
export type ShapeValue<P extends Props> = Flat<
  { -readonly [K in RequiredKeys<P>]: DecodedType<P[K]> } & {
    -readonly [K in OptionalKeys<P>]?: DecodedType<P[K]>;
  }
>;
/** What `encode` takes: an optional field that is undefined is not written. */
export type ShapeInput<P extends Props> = Flat<
  { -readonly [K in RequiredKeys<P>]: EncodedType<P[K]> } & {
    -readonly [K in OptionalKeys<P>]?: EncodedType<P[K]> | undefined;
  }
>;

/** Why received fields do not fit a shape: a BAD_REPLY for the host. */
export interface ReplyProblem {
  /** The wire key at fault. */
  key: string;
  fault: 'missing' | 'malformed';
  /** The text received, cut (malformed only). */
  text?: string;
  /** `without state=`, `state=weird is not factory or initialized`. */
  message: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: ReplyProblem };

export interface ReplyShape<P extends Props> {
  readonly props: P;
  /** The wire keys, in the order they are written. */
  readonly keys: readonly string[];
  encode(value: ShapeInput<P>): FieldList;
  decode(fields: ReceivedFields): Decoded<ShapeValue<P>>;
  /** How many DATA lines an OK of this shape announces (USER-LIST, DIAG), if it does. */
  announced?(value: ShapeValue<P>): number;
}

/** The typed value a shape decodes to. */
export type ValueOf<S> = S extends ReplyShape<infer P> ? ShapeValue<P> : never;
/** The value a shape encodes. */
export type InputOf<S> = S extends ReplyShape<infer P> ? ShapeInput<P> : never;

/** A malformed value is quoted in the problem this far at most (it is the terminal's text). */
const QUOTED_TEXT = 40;

export function wireKey(prop: string): string {
  return prop.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function shape<P extends Props>(
  props: P,
  options: { announced?: (value: ShapeValue<P>) => number } = {},
): ReplyShape<P> {
  const entries = Object.entries(props).map(([prop, kind]) => ({
    prop,
    key: wireKey(prop),
    kind: kind as AnyKind & Partial<OptionalKind<unknown>>,
  }));
  const result: ReplyShape<P> = {
    props,
    keys: entries.map((e) => e.key),
    encode(value) {
      const given = value as Record<string, unknown>;
      const fields: Array<readonly [string, ValueInput]> = [];
      for (const { prop, key, kind } of entries) {
        const v = given[prop];
        if (v === undefined) {
          if (kind.presence === undefined) throw new TypeError(`${key}= is required`);
          continue;
        }
        fields.push([key, kind.encode(v)]);
      }
      return fields;
    },
    decode(fields) {
      const value: Record<string, unknown> = {};
      for (const { prop, key, kind } of entries) {
        if (!Object.hasOwn(fields, key)) {
          if (kind.presence !== undefined) continue;
          return { ok: false, problem: { key, fault: 'missing', message: `without ${key}=` } };
        }
        const received = fields[key]!;
        const decoded = kind.decode(received);
        if (decoded === undefined) {
          if (kind.presence === 'advisory') continue;
          const cut = received.length > QUOTED_TEXT ? `${received.slice(0, QUOTED_TEXT)}...` : received;
          const message = `${key}=${cut} is not ${kind.expected}`;
          return { ok: false, problem: { key, fault: 'malformed', text: cut, message } };
        }
        value[prop] = decoded;
      }
      return { ok: true, value: value as ShapeValue<P> };
    },
  };
  if (options.announced) result.announced = options.announced;
  return result;
}
