/**
 * The client side of the API's wire format (wire.ts): replies read back into what the engine
 * would have returned or raised, each validated with the schema the server writes it by. A reply
 * that does not match is BAD_REPLY, naming the field, never cast into a value it is not.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { PosbridgeError } from '../../host/errors.js';
import type { AnyOperation } from '../../host/operations/index.js';
import { decodeFrom, errorFromWire, wireError } from './wire.js';

const errorDocument = z.object({ error: wireError, report: z.unknown().optional() });

export interface Reply {
  status: number;
  body: unknown;
}

/** A reply that does not match the API: the daemon and this client disagree about it. */
export function badReply(what: string, problems: string): PosbridgeError {
  return new PosbridgeError('BAD_REPLY', `the daemon's ${what} does not match the API: ${problems}`, {
    hint: 'is the daemon the same posbridge version as this command? (GET /v1/health names its version); the terminal state is the source of truth: check it (posbridge info) and run again',
  });
}

/** `value` read with `schema`, or BAD_REPLY naming what is wrong with it. */
export function decodeReply<S extends z.ZodType>(what: string, schema: S, value: unknown): z.output<S> {
  const decoded = decodeFrom(schema, value);
  if (!decoded.ok) throw badReply(what, decoded.problems);
  return decoded.value as z.output<S>;
}

export function isEventStream(res: IncomingMessage): boolean {
  return res.statusCode === 200 && (res.headers['content-type'] ?? '').startsWith('text/event-stream');
}

export function readJson(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch {
        reject(
          new PosbridgeError(
            'BAD_REPLY',
            `the daemon answered HTTP ${res.statusCode} with something that is not JSON`,
          ),
        );
      }
    });
  });
}

/** A non-200 reply (or an error result) as the error the engine raised. */
export function replyError(reply: Reply): PosbridgeError {
  const document = errorDocument.safeParse(reply.body);
  if (!document.success) {
    return new PosbridgeError(
      'BAD_REPLY',
      `the daemon answered HTTP ${reply.status} without an error document`,
    );
  }
  return errorFromWire(document.data.error);
}

/**
 * What a reply that is not a plain result settles to. A run that stopped early answers with the
 * error that stopped it and its report (docs/api.md): that resolves to the report (read with the
 * operation's result schema), as the engine resolved it; anything else throws the error the
 * engine raised.
 */
export function settledReply(reply: Reply, operation: AnyOperation): unknown {
  const document = errorDocument.safeParse(reply.body);
  if (!document.success || document.data.report === undefined) throw replyError(reply);
  return decodeReply(`${operation.name} report`, operation.result, document.data.report);
}
