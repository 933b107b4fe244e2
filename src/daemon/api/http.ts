/**
 * The HTTP side of the local API: refusals with their own status (no such route, wrong method,
 * body too large, shutting down), JSON replies, reading a request body within a limit and
 * validating it, and turning any error into its reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { PosbridgeError, type PosbridgeErrorCode } from '../../host/errors.js';
import type { HttpExchange } from './routes.js';
import { describeIssues, errorToWire, HTTP_STATUS_BY_CODE, type WireError } from './wire.js';

/** An HTTP-level refusal (no such route, wrong method, body too large) with its own status. */
export class HttpProblem extends PosbridgeError {
  constructor(
    readonly status: number,
    message: string,
    hint: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status >= 500 ? 'CLOSED' : 'USAGE', message, { hint });
  }
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function methodNotAllowed(method: string, path: string, allow: string): HttpProblem {
  return new HttpProblem(405, `${path} does not take ${method}`, `use ${allow} ${path}`, { allow });
}

export function shuttingDown(): PosbridgeError {
  return new HttpProblem(
    503,
    'the daemon is shutting down',
    'run the command again once it is back (or without it)',
  );
}

/** The body as text, refusing (413) past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () =>
    new HttpProblem(413, `the request body is larger than ${limit} bytes`, 'send a smaller request', {
      connection: 'close',
    });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () =>
      size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', (error) =>
      reject(
        new PosbridgeError('CLOSED', 'the caller went away while sending its request', { cause: error }),
      ),
    );
  });
}

/** The body as JSON, validated with `schema`: a 400 USAGE naming each field at fault. */
export async function readJsonBody<S extends z.ZodType>(
  req: IncomingMessage,
  limit: number,
  schema: S,
): Promise<z.output<S>> {
  const text = await readBody(req, limit);
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new PosbridgeError('USAGE', 'the request body is not valid JSON', {
      hint: 'send one JSON object (Content-Type: application/json)',
    });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new PosbridgeError('USAGE', `invalid request: ${describeIssues(parsed.error)}`, {
      hint: 'fix the named fields; nothing was sent to a terminal',
    });
  return parsed.data;
}

export interface ErrorReply {
  status: number;
  body: { error: WireError; report?: unknown };
  headers?: Record<string, string>;
}

/**
 * The one place where an error becomes a reply: its code, message, hint and details (never a
 * stack), the HTTP status of its code. Anything that is
 * not a PosbridgeError is a bug: a 500, logged with its stack.
 */
export function errorReply(error: unknown, logger: Logger): ErrorReply {
  if (error instanceof HttpProblem) {
    const { code, message, hint } = error;
    return { status: error.status, body: { error: { code, message, hint } }, headers: error.headers };
  }
  if (error instanceof PosbridgeError)
    return { status: HTTP_STATUS_BY_CODE[error.code] ?? 500, body: { error: errorToWire(error) } };
  logger.error({ err: error }, 'internal error in an API request');
  return {
    status: 500,
    body: {
      error: {
        code: 'INTERNAL',
        message: `internal error in the daemon: ${(error as Error)?.message ?? String(error)}`,
        hint: 'this is a bug in posbridge: the daemon log has the details; please report it',
      },
    },
  };
}

/**
 * A run that stopped early (its report's `error`) answers as the error that stopped it, with its
 * report (docs/api.md): the HTTP status of its code.
 */
export function stoppedReply(report: { error: WireError }): ErrorReply {
  const status = HTTP_STATUS_BY_CODE[report.error.code as PosbridgeErrorCode] ?? 500;
  return { status, body: { error: report.error, report } };
}

/** An error document as the reply: the `result` event once the stream started, else an HTTP answer. */
export function sendErrorReply(ex: HttpExchange, { status, body, headers }: ErrorReply): void {
  if (ex.stream) {
    ex.stream.send('result', body);
    ex.stream.end();
  } else if (ex.res.headersSent) ex.res.destroy();
  else json(ex.res, status, body, headers);
}
