/**
 * The operation table (src/host/operations) is the API: each operation in it has its route, its
 * client method and its place in the OpenAPI document (GET /v1/openapi.json), and the client reads
 * every reply with the operation's own schemas: a daemon that answers a wrong shape gets a coded
 * BAD_REPLY, never a value cast into a report it is not.
 */

import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditedEngine } from '../../src/audit/audited-engine.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { RemoteEngine } from '../../src/daemon/api/client.js';
import { json } from '../../src/daemon/api/http.js';
import { openApiDocument } from '../../src/daemon/api/openapi.js';
import { type HttpExchange, Router } from '../../src/daemon/api/routes.js';
import { statusList } from '../../src/daemon/api/status-schemas.js';
import { type Engine, LocalEngine } from '../../src/host/engine.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { OPERATION_NAMES, type OperationName, operationOf } from '../../src/host/operations/index.js';
import type { Holds, Same } from '../../src/host/operations/results.js';
import { Secret } from '../../src/host/secret.js';
import { profileSchema } from '../../src/host/workflow/profile.js';
import { REPO_ROOT } from '../support/cli-process.js';
import { deadline } from '../support/wait.js';
import {
  ADMIN_PW,
  call,
  MERCHANT,
  type RunningDaemon,
  scratchDir,
  startDaemon,
  TERMINAL,
} from './api-rig.helper.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function daemon(options: Parameters<typeof startDaemon>[0] = {}): Promise<RunningDaemon> {
  const d = await startDaemon(options);
  cleanups.push(() => d.stop());
  return d;
}

// --- the OpenAPI document -------------------------------------------------------------------

type Json = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` in `value`, with where it was found. */
function refsIn(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => refsIn(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [{ ref: item, at }] : refsIn(item, `${at}/${key}`),
  );
}

/** What makes a document an OpenAPI 3.x one, checked by hand: the problems found, one a line. */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.\d+\.\d+$/.test(doc.openapi))
    problems.push('openapi: not 3.x.y');
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || typeof info?.version !== 'string')
    problems.push('info: needs title and version');
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/')) problems.push(`${path}: a path starts with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) {
        problems.push(`${path}: ${method} is not an HTTP method`);
        continue;
      }
      const op = operation as Json;
      const responses = op.responses as Record<string, Json> | undefined;
      if (!responses || Object.keys(responses).length === 0) problems.push(`${method} ${path}: no responses`);
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (!/^[1-5]\d\d$|^default$/.test(status)) problems.push(`${method} ${path}: response ${status}`);
        if (typeof response.description !== 'string')
          problems.push(`${method} ${path} ${status}: no description`);
      }
      if (typeof op.operationId === 'string') {
        if (operationIds.has(op.operationId)) problems.push(`operationId ${op.operationId} twice`);
        operationIds.add(op.operationId);
      }
      const declared = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path').map((p) => p.name);
      for (const name of templated)
        if (!declared.includes(name)) problems.push(`${method} ${path}: path parameter ${name} not declared`);
    }
  }
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Json;
  for (const { ref, at } of refsIn(doc)) {
    const id = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
    if (id === undefined || !Object.hasOwn(schemas, id))
      problems.push(`${at}: $ref ${ref} resolves to nothing`);
  }
  return problems;
}

describe('GET /v1/openapi.json', () => {
  it('lists every operation of the table as a POST route with its request, result and events', async () => {
    const d = await daemon();
    const reply = await call(d.socket, 'GET', '/v1/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    const doc = reply.json;
    expect(OPERATION_NAMES.length).toBeGreaterThan(0);
    for (const name of OPERATION_NAMES) {
      const post = doc.paths[`/v1/${name}`]?.post;
      expect(post, name).toMatchObject({ operationId: name, summary: operationOf(name).summary });
      expect(post.requestBody.content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\//);
      const stream = post.responses['200'].content['text/event-stream'].schema.oneOf as Json[];
      const events = stream.map((e) => (e.properties as { event: { const: string } }).event.const);
      expect(events).toEqual(['operation', ...Object.keys(operationOf(name).events), 'trace', 'result']);
    }
    // The API's own endpoints too.
    for (const path of ['/v1/health', '/v1/terminals', '/v1/events', '/v1/openapi.json'])
      expect(doc.paths[path]?.get, path).toBeDefined();
    expect(doc.paths['/v1/operations/{id}/{event}']?.post).toBeDefined();
  });

  it('documents GET /v1/status with the status rows, and the real reply matches that schema', async () => {
    const doc = openApiDocument() as {
      paths: Record<
        string,
        { get?: { responses: Record<string, { content: Record<string, { schema: Json }> }> } }
      >;
      components: { schemas: Record<string, { properties: Record<string, Json> }> };
    };
    const schema = doc.paths['/v1/status']?.get?.responses['200']?.content['application/json']?.schema;
    expect(schema).toEqual({ $ref: '#/components/schemas/StatusList' });
    const row = doc.components.schemas.TerminalStatusRow!;
    expect(Object.keys(row.properties)).toEqual(
      expect.arrayContaining(['port', 'condition', 'activity', 'lastResult']),
    );
    expect(row.properties.condition).toMatchObject({
      enum: expect.arrayContaining(['provisioned', 'locked']),
    });
    const d = await daemon();
    await d.portManager.plug('mock://s?sn=PBS0001');
    const rows = await new RemoteEngine(d.socket).status();
    expect(rows).toEqual([expect.objectContaining({ port: 'mock://s?sn=PBS0001', condition: 'factory' })]);
    expect(statusList.safeParse((await call(d.socket, 'GET', '/v1/status')).json).success).toBe(true);
  });

  it('is a structurally valid OpenAPI 3.x document: every path has responses, every $ref resolves', async () => {
    const d = await daemon();
    const doc = (await call(d.socket, 'GET', '/v1/openapi.json')).json as Json;
    expect(openApiProblems(doc)).toEqual([]);
    expect(refsIn(doc).length).toBeGreaterThan(20);
  });

  it('the structural check finds a dangling $ref and a missing path parameter (it can fail)', () => {
    const doc = openApiDocument() as Json;
    const broken = structuredClone(doc) as { paths: Record<string, Json>; components: { schemas: Json } };
    delete broken.components.schemas.DiagOutcome;
    broken.paths['/v1/x/{id}'] = { get: { responses: { '200': { description: 'x' } } } };
    expect(openApiProblems(broken as unknown as Json)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\$ref #\/components\/schemas\/DiagOutcome resolves to nothing/),
        'get /v1/x/{id}: path parameter id not declared',
      ]),
    );
  });

  it('describes request secrets as password text, never as an object', () => {
    const doc = openApiDocument() as { components: { schemas: Record<string, { properties: Json }> } };
    expect(doc.components.schemas.PasswdRequest!.properties.newPassword).toMatchObject({
      type: 'string',
      format: 'password',
    });
  });
});

// --- the table gives each operation a route and a client method ------------------------------

// Compile time: the Engine has one method per operation of the table, no more, no fewer.
type EngineIsTheTable = Holds<[Same<keyof Engine, OperationName>]>;
const engineIsTheTable: EngineIsTheTable = [true];

describe('the operation table is the API', () => {
  it('each operation has its route, its client method and its audited and local methods', async () => {
    expect(engineIsTheTable).toEqual([true]);
    const d = await daemon();
    for (const name of OPERATION_NAMES) {
      // An empty body reaches the operation's own validation (400 naming a field), not a 404.
      const reply = await call(d.socket, 'POST', `/v1/${name}`, {});
      expect(reply.status, name).toBe(400);
      expect(reply.json.error.code).toBe('USAGE');
      expect(reply.json.error.message).toMatch(/^invalid request: /);
      for (const engine of [RemoteEngine, LocalEngine, AuditedEngine])
        expect(
          typeof (engine.prototype as unknown as Record<string, unknown>)[name],
          `${engine.name}.${name}`,
        ).toBe('function');
    }
    const unknown = await call(d.socket, 'POST', '/v1/reboot', {});
    expect(unknown.status).toBe(404);
    for (const name of OPERATION_NAMES) expect(unknown.json.error.hint).toContain(`/v1/${name}`);
  });

  it('docs/api.md describes each operation of the table, its route and its events', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    for (const name of OPERATION_NAMES) {
      expect(doc, name).toContain(`| \`POST /v1/${name}\` |`);
      expect(doc, name).toContain(`| \`${name}\` |`);
      for (const event of Object.keys(operationOf(name).events))
        expect(doc, `${name} ${event}`).toContain(`| \`${event}\` |`);
    }
  });
});

describe('the route table', () => {
  const handled: string[] = [];
  const route = (method: 'GET' | 'POST', path: string | RegExp) => ({
    method,
    path,
    handle: (_ex: HttpExchange, params: string[]) => {
      handled.push(`${method} ${params.join(',')}`);
    },
  });
  const exchange = (method: string, path: string) => ({ method, path }) as HttpExchange;

  it('routes by method and path, a pattern giving its groups', async () => {
    handled.length = 0;
    const router = new Router([route('GET', '/v1/a'), route('POST', /\/v1\/b\/([0-9]+)/)]);
    await router.dispatch(exchange('GET', '/v1/a'));
    await router.dispatch(exchange('HEAD', '/v1/a'));
    await router.dispatch(exchange('POST', '/v1/b/42'));
    expect(handled).toEqual(['GET ', 'GET ', 'POST 42']);
  });

  it('404 lists every endpoint; 405 names the methods the path takes; a pattern matches whole paths only', async () => {
    const router = new Router([route('GET', '/v1/a'), route('POST', /\/v1\/b\/([0-9]+)/)]);
    const missing = await router.dispatch(exchange('GET', '/v1/zz')).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      status: 404,
      hint: 'the API offers GET /v1/a; POST \\/v1\\/b\\/([0-9]+)',
    });
    const partial = await router.dispatch(exchange('POST', '/x/v1/b/42/y')).catch((e: unknown) => e);
    expect(partial).toMatchObject({ status: 404 });
    const wrong = await router.dispatch(exchange('DELETE', '/v1/a')).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 405, headers: { allow: 'GET' } });
  });

  it('refuses a second route for the same method and path', () => {
    const router = new Router([route('GET', '/v1/a')]);
    expect(() => router.add(route('GET', '/v1/a'))).toThrow('two routes for GET /v1/a');
    router.add(route('POST', '/v1/a'));
  });

  it('a route given to the daemon is served next to the API, which it does not displace', async () => {
    const d = await daemon({
      routes: (portManager) => [
        {
          method: 'GET',
          path: '/v1/count',
          handle: (ex) => json(ex.res, 200, { terminals: portManager.list().length }),
        },
      ],
    });
    expect((await call(d.socket, 'GET', '/v1/count')).json).toEqual({ terminals: 0 });
    expect((await call(d.socket, 'GET', '/v1/health')).status).toBe(200);
    const missing = await call(d.socket, 'GET', '/v1/nothing');
    expect(missing.json.error.hint).toContain('/v1/count');
  });
});

// --- the client validates every reply ---------------------------------------------------------

interface Stub {
  socket: string;
  /** Acknowledgements the client sent: path and body. */
  acks: Array<{ path: string; body: unknown }>;
}

/** A daemon impostor on a socket: `answer` writes whatever it likes to each operation request. */
async function stubDaemon(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Stub> {
  const dir = scratchDir();
  const socket = join(dir, 'stub.sock');
  const acks: Stub['acks'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/v1/operations/')) {
        acks.push({ path: req.url, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        json(res, 200, { ok: true });
      } else answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  return { socket, acks };
}

function eventStream(res: ServerResponse, events: Array<[string, unknown]>, end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [event, data] of events) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  if (end) res.end();
}

async function failure(promise: Promise<unknown>): Promise<PosbridgeError> {
  const error = await promise.then(
    (value) => ({ resolved: value }),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PosbridgeError);
  return error as PosbridgeError;
}

const HELLO = { proto: 1, model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0', state: 'initialized', caps: [] };

describe('RemoteEngine validates every reply with the operation schemas', () => {
  it('a status reply of the wrong shape is BAD_REPLY, never a cast', async () => {
    const stub = await stubDaemon((_req, res) =>
      json(res, 200, { terminals: [{ port: 'p', state: 'present', since: 'now', condition: 'green' }] }),
    );
    const error = await failure(new RemoteEngine(stub.socket).status());
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/condition/);
  });

  it('a result of the wrong shape is BAD_REPLY naming the field, exit 3, never a cast', async () => {
    const stub = await stubDaemon((_req, res) =>
      json(res, 200, { kind: 'info', port: 'mock://a', hello: HELLO }),
    );
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const error = await failure(remote.info({ port: 'mock://a' }));
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(
      /^the daemon's info result does not match the API: status: .*expected object/,
    );
    expect(error.hint).toMatch(/same posbridge version/);
    expect(exitCodeFor(error)).toBe(3);
  });

  it('a field of the wrong type in a nested report is BAD_REPLY with its path', async () => {
    const stub = await stubDaemon((_req, res) =>
      json(res, 200, {
        kind: 'diag',
        port: 'mock://a',
        sn: 'PBM0000001',
        terminal: { model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' },
        diagnostics: { results: [], pass: '12', warn: 0, fail: 0 },
      }),
    );
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const error = await failure(remote.diag({ port: 'mock://a', adminPassword: new Secret(ADMIN_PW) }));
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/diag result does not match the API: diagnostics\.pass: /);
  });

  it('a streamed result of the wrong shape is BAD_REPLY, not a call that never settles', async () => {
    // The stream stays open: only the result event can end the call.
    const stub = await stubDaemon((_req, res) =>
      eventStream(
        res,
        [
          ['operation', { id: 'op-1', name: 'diag', port: 'mock://a' }],
          ['result', { report: { kind: 'diag', port: 'mock://a', diagnostics: { pass: 'all' } } }],
        ],
        false,
      ),
    );
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const error = await failure(
      deadline(
        remote.diag(
          { port: 'mock://a', adminPassword: new Secret(ADMIN_PW) },
          { on: { check: () => undefined } },
        ),
        'the streamed diag call to settle',
      ),
    );
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/^the daemon's diag result does not match the API/);
  });

  it('an event of the wrong shape is BAD_REPLY; its handler never sees it', async () => {
    const stub = await stubDaemon((_req, res) =>
      eventStream(
        res,
        [
          ['operation', { id: 'op-1', name: 'diag', port: 'mock://a' }],
          ['check', { check: 'printer', status: 'maybe', detail: '' }],
        ],
        false,
      ),
    );
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const seen: unknown[] = [];
    const error = await failure(
      remote.diag(
        { port: 'mock://a', adminPassword: new Secret(ADMIN_PW) },
        { on: { check: (r) => seen.push(r) } },
      ),
    );
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/^the daemon's diag check event does not match the API: status: /);
    expect(seen).toEqual([]);
  });

  it('a generated password that does not read is refused, never kept: the daemon is told it was not kept', async () => {
    const stub = await stubDaemon((_req, res) =>
      eventStream(
        res,
        [
          ['operation', { id: 'op-1', name: 'provision', port: 'mock://a' }],
          ['generated', { call: 'g1', id: '02' }],
        ],
        false,
      ),
    );
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const kept: unknown[] = [];
    const error = await failure(
      remote.provision(
        {
          request: {
            port: 'mock://a',
            merchant: MERCHANT,
            terminal: TERMINAL,
            adminPassword: new Secret(ADMIN_PW),
            profile: profileSchema.parse({}),
            technician: 'tech',
            station: 'bench',
          },
        },
        { on: { generated: async (data) => void kept.push(data) } },
      ),
    );
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toMatch(/provision generated event does not match the API: password: /);
    expect(kept).toEqual([]);
    expect(stub.acks).toEqual([
      {
        path: '/v1/operations/op-1/generated',
        body: { call: 'g1', ok: false, error: expect.objectContaining({ code: 'BAD_REPLY' }) },
      },
    ]);
  });

  it('an error document without a code is BAD_REPLY, not a guessed error', async () => {
    const stub = await stubDaemon((_req, res) => json(res, 500, { oops: true }));
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const error = await failure(remote.info({ port: 'mock://a' }));
    expect(error.code).toBe('BAD_REPLY');
    expect(error.message).toBe('the daemon answered HTTP 500 without an error document');
  });

  it('a request that does not match its schema is refused before anything is sent', async () => {
    let asked = 0;
    const stub = await stubDaemon((_req, res) => {
      asked += 1;
      json(res, 200, {});
    });
    const remote = new RemoteEngine(stub.socket);
    cleanups.push(() => remote.close());
    const error = await failure(remote.diag({ port: 'mock://a', checks: ['printer', 'toaster'] }));
    expect(error.code).toBe('USAGE');
    expect(error.message).toBe('invalid request: checks.1: unknown check "toaster"');
    expect(asked).toBe(0);
  });
});
