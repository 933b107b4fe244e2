/**
 * Reply and event lines: what the terminal writes and the host reads.
 *   [@ID ]DATA k=v...   [@ID ]OK k=v...   [@ID ]ERR code=NNN reason=slug k=v...   EVT name k=v...
 * Receivers ignore keys they do not know (forward compatibility). This is the line level (ID,
 * words, CRC); what the fields of each line mean is the reply codecs' (reply-codecs.ts).
 */
import type { ErrorSlug } from './errors.js';
import { encodeLine, parseLineText } from './line.js';
import { ERR_REPLY } from './reply-codecs.js';
import type { FieldList } from './reply-shape.js';

export type ReplyKind = 'data' | 'ok' | 'err' | 'evt';

export interface ReplyLine {
  kind: ReplyKind;
  id?: string;
  /** The event's name, for `evt`. */
  event?: string;
  /** Field values as text (invalid UTF-8 shown with U+FFFD); first occurrence wins. */
  fields: Record<string, string>;
  crc: boolean;
}

export type ReplyResult = { ok: true; reply: ReplyLine } | { ok: false; problem: string; crcBad: boolean };

const KINDS: Record<string, ReplyKind> = { DATA: 'data', OK: 'ok', ERR: 'err', EVT: 'evt' };

export function parseReply(text: string): ReplyResult {
  const parsed = parseLineText(text);
  if (!parsed.ok)
    return { ok: false, problem: parsed.fault.detail, crcBad: parsed.fault.fault === 'bad-crc' };
  const { words, fields, id, crc } = parsed.line;
  const kind = KINDS[words[0]!.toUpperCase()];
  if (kind === undefined)
    return { ok: false, problem: `not a reply: ${words[0]!.slice(0, 16)}`, crcBad: false };
  if (kind === 'evt' ? words.length !== 2 : words.length !== 1) {
    return { ok: false, problem: 'wrong number of words', crcBad: false };
  }
  if (kind === 'evt' && id !== undefined)
    return { ok: false, problem: 'an EVT carries no ID', crcBad: false };
  const record: Record<string, string> = {};
  for (const field of fields) if (!Object.hasOwn(record, field.key)) record[field.key] = field.value;
  const reply: ReplyLine = { kind, fields: record, crc };
  if (id !== undefined) reply.id = id;
  if (kind === 'evt') reply.event = words[1]!;
  return { ok: true, reply };
}

export interface ReplyContext {
  id?: string | undefined;
  crc: boolean;
}

export function encodeOk(ctx: ReplyContext, fields: FieldList = []): string {
  return encodeLine({ id: ctx.id, words: ['OK'], fields, crc: ctx.crc });
}

export function encodeData(ctx: ReplyContext, fields: FieldList): string {
  return encodeLine({ id: ctx.id, words: ['DATA'], fields, crc: ctx.crc });
}

/** An ERR line with any further fields, in the order given (encodeErrReply writes a typed one). */
export function encodeErr(ctx: ReplyContext, code: number, reason: ErrorSlug, extra: FieldList = []): string {
  return encodeLine({
    id: ctx.id,
    words: ['ERR'],
    fields: [...ERR_REPLY.encode({ code, reason }), ...extra],
    crc: ctx.crc,
  });
}

/** Events never carry an ID. */
export function encodeEvent(name: string, fields: FieldList, crc: boolean): string {
  return encodeLine({ words: ['EVT', name], fields, crc });
}
