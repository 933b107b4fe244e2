/**
 * The reply codecs of TSP/1: every command's OK and DATA lines (their shapes are in the command
 * table), the ERR line and the events, each one shape read both ways. The terminal encodes with
 * them, the host decodes with them; neither writes or picks apart reply fields by hand.
 */
import { COMMANDS, terminalState, type Verb } from './commands.js';
import { codeOfSlug, type ErrorSlug } from './errors.js';
import { encodeLine } from './line.js';
import type { ReplyContext } from './reply.js';
import {
  type Decoded,
  echo,
  type FieldKind,
  type FieldList,
  type InputOf,
  int,
  optional,
  type ReceivedFields,
  type ReplyShape,
  shape,
  text,
  type ValueOf,
} from './reply-shape.js';

type Commands = typeof COMMANDS;

/** The verbs whose reply has DATA lines (USER-LIST, DIAG). */
export type DataVerb = { [V in Verb]: Commands[V] extends { data: object } ? V : never }[Verb];

/** A command's OK line as the host reads it. */
export type OkValue<V extends Verb> = ValueOf<Commands[V]['ok']>;
/** A command's OK line as the terminal writes it. */
export type OkInput<V extends Verb> = InputOf<Commands[V]['ok']>;
export type DataValue<V extends DataVerb> = ValueOf<Commands[V]['data']>;
export type DataInput<V extends DataVerb> = InputOf<Commands[V]['data']>;

// One cast each: indexing the table with a type parameter loses the link between V and its shape.
// biome-ignore lint/suspicious/noExplicitAny: see above.
const okShape = (verb: Verb) => COMMANDS[verb].ok as ReplyShape<any>;
// biome-ignore lint/suspicious/noExplicitAny: see above.
const dataShape = (verb: DataVerb) => COMMANDS[verb].data as ReplyShape<any>;

export function encodeOkFields<V extends Verb>(verb: V, value: OkInput<V>): FieldList {
  return okShape(verb).encode(value);
}

export function decodeOkFields<V extends Verb>(verb: V, fields: ReceivedFields): Decoded<OkValue<V>> {
  return okShape(verb).decode(fields) as Decoded<OkValue<V>>;
}

export function encodeDataFields<V extends DataVerb>(verb: V, value: DataInput<V>): FieldList {
  return dataShape(verb).encode(value);
}

export function decodeDataFields<V extends DataVerb>(verb: V, fields: ReceivedFields): Decoded<DataValue<V>> {
  return dataShape(verb).decode(fields) as Decoded<DataValue<V>>;
}

/**
 * How many DATA lines an OK says came before it (USER-LIST `count`, DIAG `pass`+`warn`+`fail`),
 * or undefined when the command does not say or the OK does not read (docs/protocol.md §18).
 */
export function announcedDataLines(verb: Verb, ok: ReceivedFields): number | undefined {
  const shape = okShape(verb);
  if (!shape.announced) return undefined;
  const decoded = shape.decode(ok);
  return decoded.ok ? shape.announced(decoded.value) : undefined;
}

/**
 * An error slug: a terminal writes one of section 11; a host keeps whatever it reads (a slug it
 * does not know is still a refusal).
 */
const slug: FieldKind<string, ErrorSlug> = { expected: 'a slug', encode: (s) => s, decode: (s) => s };

/**
 * `ERR code=NNN reason=SLUG`, then the error's own fields, then `msg` (docs/protocol.md §7, §11):
 * `key` (400, 422), `check` (422 unknown-check), `remaining` (401 bad-credentials, while lockout
 * is enabled), `retry_after` (423). `msg` is for people: hosts show it and never interpret it.
 */
export const ERR_REPLY = shape({
  code: int,
  reason: slug,
  key: optional(echo),
  check: optional(echo),
  remaining: optional(int),
  retryAfter: optional(int),
  msg: optional(text),
});
export type ErrReply = ValueOf<typeof ERR_REPLY>;
export type ErrInput = InputOf<typeof ERR_REPLY>;

/** An error the terminal answers: the code follows from the slug (each slug has one code, §11). */
export function errorReply(reason: ErrorSlug, fields: Omit<ErrInput, 'code' | 'reason'> = {}): ErrInput {
  return { code: codeOfSlug(reason), reason, ...fields };
}

export function encodeErrReply(ctx: ReplyContext, err: ErrInput): string {
  return encodeLine({ id: ctx.id, words: ['ERR'], fields: ERR_REPLY.encode(err), crc: ctx.crc });
}

/** The events of TSP/1 (docs/protocol.md §9). */
export const EVENTS = {
  /** After every start of the terminal: its serial number. */
  boot: shape({ sn: text }),
  /** The first INIT (`initialized`), RESET (`factory`). */
  state: shape({ state: terminalState }),
  /** A failure locked the terminal: seconds until the lock ends. */
  lockout: shape({ retryAfter: int }),
} as const;
export type EventName = keyof typeof EVENTS;
export type EventValue<N extends EventName> = ValueOf<(typeof EVENTS)[N]>;
export type EventInput<N extends EventName> = InputOf<(typeof EVENTS)[N]>;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}

export function encodeEventFields<N extends EventName>(name: N, value: EventInput<N>): FieldList {
  // biome-ignore lint/suspicious/noExplicitAny: as okShape above.
  return (EVENTS[name] as ReplyShape<any>).encode(value);
}

export function decodeEventFields<N extends EventName>(
  name: N,
  fields: ReceivedFields,
): Decoded<EventValue<N>> {
  // biome-ignore lint/suspicious/noExplicitAny: as okShape above.
  return (EVENTS[name] as ReplyShape<any>).decode(fields) as Decoded<EventValue<N>>;
}
