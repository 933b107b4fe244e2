/**
 * Reading a reply: the OK and DATA lines of a command become its typed values through the reply
 * codecs of the command table (src/protocol/reply-codecs.ts), never by picking fields by hand. A
 * line that does not fit its shape is a BAD_REPLY naming the field.
 */
import {
  type DataValue,
  type DataVerb,
  type Decoded,
  decodeDataFields,
  decodeOkFields,
  type OkValue,
  type ReceivedFields,
  type Verb,
} from '../protocol/index.js';
import { PosbridgeError } from './errors.js';
import type { Reply } from './session.js';

export function badReply(verb: string, problem: string): PosbridgeError {
  return new PosbridgeError('BAD_REPLY', `${verb}: the terminal's reply does not fit TSP/1: ${problem}`, {
    hint: 'The terminal may speak another protocol version: check its firmware (posbridge info).',
    details: { verb },
  });
}

function fitted<T>(verb: Verb, line: 'OK' | 'DATA', decoded: Decoded<T>): T {
  if (decoded.ok) return decoded.value;
  throw badReply(verb, `${line} ${decoded.problem.message}`);
}

/** The OK line of `verb`'s reply, typed. */
export function okValue<V extends Verb>(verb: V, reply: Reply): OkValue<V> {
  return fitted(verb, 'OK', decodeOkFields(verb, reply.fields));
}

/** One DATA line of `verb`, typed (as it arrives, or from the reply). */
export function dataValue<V extends DataVerb>(verb: V, fields: ReceivedFields): DataValue<V> {
  return fitted(verb, 'DATA', decodeDataFields(verb, fields));
}

export function dataValues<V extends DataVerb>(verb: V, reply: Reply): DataValue<V>[] {
  return reply.data.map((fields) => dataValue(verb, fields));
}
