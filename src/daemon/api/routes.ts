/**
 * The API's route table: each route is a method, a path (fixed, or a pattern whose groups are its
 * parameters) and a handler. The server builds its table from the operation table and its own
 * endpoints (server.ts); more routes (a dashboard, status pages) are added to it, never written
 * into a switch. A path no route has is 404 naming every endpoint; a path taken with another
 * method is 405 with `Allow`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpProblem, methodNotAllowed } from './http.js';
import type { RunningOperation } from './operation-runner.js';
import type { SseWriter } from './sse.js';

/** One HTTP request and response, and what the server learnt of it. */
export interface HttpExchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  /** The query string's parameters. */
  query: URLSearchParams;
  /** The caller asked for an event stream (Accept: text/event-stream). */
  wantsStream: boolean;
  /** Set once the event stream started: from then on results and errors are events. */
  stream?: SseWriter;
  /** Set once an operation runs for this request (for the request log). */
  operation?: RunningOperation;
}

export interface Route {
  /** GET routes also answer HEAD. */
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A fixed path, or a pattern (anchored) whose capture groups are the handler's `params`. */
  path: string | RegExp;
  /** How the path reads in the list of endpoints a 404 gives: `/v1/operations/{id}/{event}`. */
  shown?: string;
  handle(ex: HttpExchange, params: string[]): Promise<void> | void;
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(routes: Iterable<Route> = []) {
    for (const route of routes) this.add(route);
  }

  /** Adds a route; one for a method and path already taken is a bug, refused at once. */
  add(route: Route): void {
    const clash = this.routes.find((r) => r.method === route.method && String(r.path) === String(route.path));
    if (clash) throw new TypeError(`two routes for ${route.method} ${String(route.path)}`);
    this.routes.push(route);
  }

  /** Every endpoint, as a 404 lists them: `GET /v1/health, ...; POST /v1/info, ...`. */
  describe(): string {
    const byMethod = new Map<string, string[]>();
    for (const route of this.routes) {
      const shown = route.shown ?? (typeof route.path === 'string' ? route.path : route.path.source);
      byMethod.set(route.method, [...(byMethod.get(route.method) ?? []), shown]);
    }
    return [...byMethod].map(([method, paths]) => `${method} ${paths.join(', ')}`).join('; ');
  }

  /** Runs the route the request is for; throws the 404 or 405 when there is none. */
  async dispatch(ex: HttpExchange): Promise<void> {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchPath(route.path, ex.path);
      if (!params) continue;
      if (route.method === ex.method || (route.method === 'GET' && ex.method === 'HEAD'))
        return route.handle(ex, params);
      allowed.push(route.method);
    }
    if (allowed.length > 0) throw methodNotAllowed(ex.method, ex.path, allowed.join(', '));
    throw new HttpProblem(
      404,
      `no such endpoint: ${ex.method} ${ex.path}`,
      `the API offers ${this.describe()}`,
    );
  }
}

function matchPath(path: string | RegExp, actual: string): string[] | undefined {
  if (typeof path === 'string') return path === actual ? [] : undefined;
  const match = path.exec(actual);
  if (match?.index !== 0 || match[0].length !== actual.length) return undefined;
  return match.slice(1).map((group) => group ?? '');
}
