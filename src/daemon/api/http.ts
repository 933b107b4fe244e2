/**
 * The HTTP side of the local API: refusals with their own status (no such route, wrong method,
 * body too large, shutting down), JSON replies, and reading a request body within a limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PosbridgeError } from '../../host/errors.js';

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
