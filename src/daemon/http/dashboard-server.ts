/**
 * The dashboard's listener (docs/dashboard.md): off unless `daemon --http HOST:PORT` or the
 * config's `http.listen`. It serves the page (static files shipped in the package), the bench's
 * state and events to a session (auth.ts), and `GET /metrics`.
 *
 *   GET  /login?token=T      the printed URL: the token for a session cookie, then to /
 *   GET  /, /style.css, /*.js the page (no data in it)
 *   GET  /api/session        { csrf }: the CSRF token of this session
 *   GET  /api/status         { terminals: TerminalStatusRow[] } (as GET /v1/status)
 *   GET  /api/events         the daemon's event stream (as GET /v1/events, Last-Event-ID too)
 *   POST /api/logout         ends the session (CSRF)
 *   (more POST routes come from `routes`: each needs the session and its CSRF token)
 *   GET  /metrics            Prometheus text (no secret, no merchant number)
 *
 * Every reply forbids framing and caching; a request whose Host is not this listener is refused
 * (a DNS-rebinding page cannot borrow the session).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PosbridgeError } from '../../host/errors.js';
import type { BenchStatus } from '../api/bench-status.js';
import type { EventJournal } from '../api/event-journal.js';
import { HttpProblem, json, readBody } from '../api/http.js';
import { followJournal, SseWriter } from '../api/sse.js';
import { HTTP_STATUS_BY_CODE } from '../api/wire.js';
import { DashboardAuth, type Session } from './auth.js';
import { isLoopback, type ListenAddress } from './listen.js';

export interface DashboardAssets {
  /** index.html and style.css (src/dashboard/static in the package). */
  staticDir: string;
  /** The compiled browser code (dist/dashboard). */
  scriptDir: string;
}

/** A state-changing route added by the daemon (a station run...): called with a checked session. */
export type DashboardRoute = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

export interface DashboardOptions {
  listen: ListenAddress;
  journal: EventJournal;
  bench: BenchStatus;
  logger: Logger;
  assets: DashboardAssets;
  random: (n: number) => Uint8Array;
  /** The Prometheus text of GET /metrics. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** POST /api/NAME routes (JSON bodies), each behind the session and its CSRF token. */
  routes?: Record<string, DashboardRoute>;
  /** Other GET /api/NAME routes (read only, behind the session). */
  reads?: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>>;
  heartbeatMs?: number;
  bodyLimitBytes?: number;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The login URL carries the token: never in a Referer.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

function unauthorized(what: string): HttpProblem {
  return new HttpProblem(
    401,
    `${what}: no session`,
    'open the URL the daemon printed when it started (it holds a one-time token)',
  );
}

export class DashboardServer {
  readonly auth: DashboardAuth;
  private readonly server: Server;
  private readonly streams = new Set<SseWriter>();
  private address: ListenAddress | undefined;

  private constructor(private readonly options: DashboardOptions) {
    this.auth = new DashboardAuth(options.random);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 0;
  }

  static async start(options: DashboardOptions): Promise<DashboardServer> {
    const dashboard = new DashboardServer(options);
    await new Promise<void>((resolve, reject) => {
      dashboard.server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new PosbridgeError(
            'USAGE',
            `the dashboard cannot listen on ${options.listen.host}:${options.listen.port}: ${error.code ?? error.message}`,
            {
              hint: 'choose another port (--http 127.0.0.1:PORT, or http.listen in the daemon config), or stop what uses it',
              cause: error,
            },
          ),
        ),
      );
      dashboard.server.listen(options.listen.port, options.listen.host, () => resolve());
    });
    const bound = dashboard.server.address() as AddressInfo;
    dashboard.address = { host: options.listen.host, port: bound.port };
    return dashboard;
  }

  /** `http://HOST:PORT` as bound (the port chosen when 0 was asked). */
  get origin(): string {
    const { host, port } = this.address!;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** The URL to print: opening it starts a session; undefined once its token is spent. */
  get loginUrl(): string | undefined {
    const token = this.auth.token;
    return token === undefined ? undefined : `${this.origin}/login?token=${token}`;
  }

  /** A new one-time login URL (the last unspent one stops working): another browser's way in. */
  renewLoginUrl(): string {
    return `${this.origin}/login?token=${this.auth.renew()}`;
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A browser's keep-alive connection would hold close() open: the page reconnects later.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const method = req.method ?? 'GET';
    try {
      this.checkHost(req);
      await this.route(req, res, method, url);
    } catch (error) {
      this.fail(res, error);
    }
    // Never the query: the login URL's token stays out of the log.
    this.options.logger.info({ method, path: url.pathname, status: res.statusCode }, 'dashboard request');
  }

  private checkHost(req: IncomingMessage): void {
    const { host, port } = this.address!;
    const given = req.headers.host ?? '';
    const allowed = new Set([`${host.includes(':') ? `[${host}]` : host}:${port}`]);
    if (isLoopback(host))
      for (const name of ['localhost', '127.0.0.1', '[::1]']) allowed.add(`${name}:${port}`);
    else return; // Listening for the network (allowRemote): the names it is reached by are the user's.
    if (!allowed.has(given))
      throw new HttpProblem(421, `the dashboard does not answer for host ${given}`, `open ${this.origin}`);
  }

  private async route(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    const path = url.pathname;
    if (method === 'GET' && path === '/login') return this.login(res, url.searchParams.get('token') ?? '');
    if (method === 'GET' && path === '/metrics') return this.metrics(res);
    if (method === 'GET' && !path.startsWith('/api/')) return this.asset(res, path);
    if (!path.startsWith('/api/')) throw new HttpProblem(405, `${method} ${path}`, 'the page uses GET');
    const name = path.slice('/api/'.length);
    if (method === 'GET') {
      if (!this.auth.session(req)) throw unauthorized(`GET ${path}`);
      return this.read(req, res, name, url);
    }
    if (method !== 'POST') throw new HttpProblem(405, `${method} ${path}`, 'the API takes GET and POST');
    // The session and its CSRF token are checked before the body is even read.
    const session = this.auth.sessionForChange(req);
    if (!session) {
      req.resume();
      throw new HttpProblem(
        401,
        `POST ${path}: no session or no CSRF token`,
        'reload the dashboard (it sends the token itself); nothing was changed',
      );
    }
    return this.change(req, res, name, session);
  }

  private login(res: ServerResponse, token: string): void {
    const session = this.auth.login(token);
    if (!session)
      throw new HttpProblem(
        401,
        'this login link is wrong or was already used',
        'each link works once: restart the daemon for a new one, or use the browser that opened it',
      );
    res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'set-cookie': this.auth.cookie(session) });
    res.end();
  }

  private async read(req: IncomingMessage, res: ServerResponse, name: string, url: URL): Promise<void> {
    const session = this.auth.session(req)!;
    switch (name) {
      case 'session':
        return json(res, 200, { csrf: session.csrf }, SECURITY_HEADERS);
      case 'status':
        return json(res, 200, { terminals: this.options.bench.rows() }, SECURITY_HEADERS);
      case 'events': {
        const stream = new SseWriter(res, { heartbeatMs: this.options.heartbeatMs });
        stream.comment('posbridge events');
        const unsubscribe = followJournal(this.options.journal, stream, req.headers['last-event-id']);
        this.streams.add(stream);
        res.on('close', () => {
          unsubscribe();
          this.streams.delete(stream);
        });
        return;
      }
    }
    const reader = this.options.reads?.[name];
    if (!reader) throw new HttpProblem(404, `no such endpoint: GET /api/${name}`, 'reload the dashboard');
    return reader(req, res, url);
  }

  private async change(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    session: Session,
  ): Promise<void> {
    const text = await readBody(req, this.options.bodyLimitBytes ?? 1024 * 1024);
    let body: unknown = {};
    try {
      if (text.trim() !== '') body = JSON.parse(text);
    } catch {
      throw new PosbridgeError('USAGE', 'the request body is not valid JSON', {
        hint: 'reload the dashboard',
      });
    }
    if (name === 'logout') {
      this.auth.logout(session);
      return json(res, 200, { ok: true }, { ...SECURITY_HEADERS, 'set-cookie': this.auth.clearCookie() });
    }
    const route = this.options.routes?.[name];
    if (!route) throw new HttpProblem(404, `no such endpoint: POST /api/${name}`, 'reload the dashboard');
    return route(req, res, body);
  }

  private async metrics(res: ServerResponse): Promise<void> {
    if (!this.options.metrics) throw new HttpProblem(404, 'no metrics here', 'this daemon keeps none');
    const { contentType, text } = await this.options.metrics();
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': contentType });
    res.end(text);
  }

  private async asset(res: ServerResponse, path: string): Promise<void> {
    const { staticDir, scriptDir } = this.options.assets;
    const file =
      path === '/' || path === '/index.html'
        ? join(staticDir, 'index.html')
        : path === '/style.css'
          ? join(staticDir, 'style.css')
          : /^\/[a-z][a-z0-9-]*\.js$/.test(path)
            ? join(scriptDir, path.slice(1))
            : undefined;
    let content: Buffer | undefined;
    if (file) content = await readFile(file).catch(() => undefined);
    if (!file || !content) throw new HttpProblem(404, `no such page: ${path}`, 'open /');
    const type = TYPES[file.slice(file.lastIndexOf('.'))]!;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': String(content.length),
    });
    res.end(content);
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof PosbridgeError) {
      const status = error instanceof HttpProblem ? error.status : (HTTP_STATUS_BY_CODE[error.code] ?? 500);
      json(
        res,
        status,
        { error: { code: error.code, message: error.message, hint: error.hint } },
        SECURITY_HEADERS,
      );
      return;
    }
    this.options.logger.error({ err: error }, 'internal error in a dashboard request');
    json(
      res,
      500,
      {
        error: {
          code: 'INTERNAL',
          message: 'internal error in the daemon',
          hint: 'the daemon log has the details',
        },
      },
      SECURITY_HEADERS,
    );
  }
}
