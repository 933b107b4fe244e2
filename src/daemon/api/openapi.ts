/**
 * The OpenAPI 3.1 document of the local API, generated from the same schemas the server and the
 * client use (the operation table, wire.ts, hub-schemas.ts): served at GET /v1/openapi.json,
 * explained for people in docs/api.md. Requests are described as a caller writes them (zod's
 * input side: defaults optional, secrets as text), replies as the daemon writes them; a reply
 * object may gain fields, which a client ignores.
 *
 * An operation's event stream (text/event-stream) is described by `oneOf` one object per event,
 * `{ event, data }`: each server-sent event has that `event:` name and that JSON as its `data:`.
 */
import { z } from 'zod';
import { OPERATION_NAMES, type OperationName, operationOf } from '../../host/operations/index.js';
import {
  diagCheckResult,
  diagOutcome,
  helloInfo,
  operatorInfo,
  provisionReport,
  statusInfo,
  stepRecord,
  terminalIdentity,
} from '../../host/operations/results.js';
import { DASHBOARD_LINK_PATH, dashboardLink } from './dashboard-link.js';
import { hubEvent, terminalInfo, terminalList } from './hub-schemas.js';
import { statusList, terminalStatusRow } from './status-schemas.js';
import {
  API_VERSION,
  ackBody,
  daemonHealth,
  HTTP_STATUS_BY_CODE,
  linkBody,
  operationStarted,
  requestBody,
  traceEvent,
  wireError,
  wireEventSchema,
} from './wire.js';

type Json = Record<string, unknown>;

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });
const title = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const eventId = (name: OperationName, event: string) => `${title(name)}${title(event)}Event`;

/** The result document of an operation's stream, and the body of a refused request. */
function errorDocument(report?: z.ZodType) {
  return z.object({ error: wireError, ...(report && { report: report.optional() }) });
}

/** Named schemas, each described once in components and referred to from the paths. */
function registries() {
  const requests = z.registry<{ id: string }>();
  const replies = z.registry<{ id: string }>();
  requests.add(linkBody, { id: 'Link' });
  requests.add(ackBody, { id: 'Acknowledgement' });
  for (const [id, schema] of Object.entries({
    TerminalIdentity: terminalIdentity,
    StepRecord: stepRecord,
    DiagCheckResult: diagCheckResult,
    DiagOutcome: diagOutcome,
    HelloInfo: helloInfo,
    StatusInfo: statusInfo,
    OperatorInfo: operatorInfo,
    ProvisionReport: provisionReport,
    DaemonHealth: daemonHealth,
    TerminalInfo: terminalInfo,
    TerminalList: terminalList,
    TerminalStatusRow: terminalStatusRow,
    StatusList: statusList,
    DashboardLink: dashboardLink,
    HubEvent: hubEvent,
    Error: wireError,
    ErrorDocument: errorDocument(),
    OperationStarted: operationStarted,
    TraceEvent: traceEvent,
  }))
    replies.add(schema, { id });
  for (const name of OPERATION_NAMES) {
    const operation = operationOf(name);
    requests.add(requestBody(name), { id: `${title(name)}Request` });
    if (!replies.has(operation.result)) replies.add(operation.result, { id: `${title(name)}Result` });
    replies.add(z.object({ report: operation.result }), { id: `${title(name)}Done` });
    replies.add(errorDocument(operation.result), { id: `${title(name)}Failed` });
    for (const [event, spec] of Object.entries(operation.events)) {
      if (!replies.has(spec.schema) || spec.acknowledged)
        replies.add(wireEventSchema(spec.schema, spec.acknowledged !== undefined), {
          id: eventId(name, event),
        });
    }
  }
  return { requests, replies };
}

/** Components as OpenAPI holds them: no `$schema` or `$id` of their own. */
function components(
  registry: z.core.$ZodRegistry<{ id: string }>,
  io: 'input' | 'output',
): Record<string, Json> {
  const { schemas } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  }) as { schemas: Record<string, Json> };
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema;
    out[id] = io === 'output' ? open(rest) : rest;
  }
  return out;
}

/** Reply objects may gain fields (a client ignores those it does not know): none is closed. */
function open(schema: unknown): Json {
  if (Array.isArray(schema)) return schema.map(open) as unknown as Json;
  if (typeof schema !== 'object' || schema === null) return schema as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    out[key] = typeof value === 'object' ? open(value) : value;
  }
  return out;
}

/** The id under which the registry holds `schema`. */
function idOf(registry: z.core.$ZodRegistry<{ id: string }>, schema: z.ZodType): string {
  const id = registry.get(schema)?.id;
  if (id === undefined) throw new TypeError('a schema the document refers to is not named');
  return id;
}

/** Refusals of the HTTP layer itself (http.ts), besides the codes of HTTP_STATUS_BY_CODE. */
const HTTP_REFUSALS: Record<number, string> = {
  404: 'no such endpoint',
  405: 'wrong method',
  413: 'body too large',
  503: 'the daemon is starting or shutting down',
};

/** Every error status the API answers, each with the codes that get it. */
function errorResponses(): Json {
  const codes = new Map<number, string[]>();
  for (const [code, status] of Object.entries(HTTP_STATUS_BY_CODE))
    codes.set(status, [...(codes.get(status) ?? []), code]);
  const statuses = [...new Set([...codes.keys(), ...Object.keys(HTTP_REFUSALS).map(Number)])].sort();
  const out: Json = {};
  for (const status of statuses) {
    const said = [codes.get(status)?.join(', '), HTTP_REFUSALS[status]].filter(Boolean).join('; ');
    out[String(status)] = {
      description: `error: ${said}`,
      content: { 'application/json': { schema: ref('ErrorDocument') } },
    };
  }
  return out;
}

function operationPath(name: OperationName, replies: z.core.$ZodRegistry<{ id: string }>): Json {
  const operation = operationOf(name);
  const events: Json[] = [{ event: 'operation', data: ref('OperationStarted') }];
  for (const [event, spec] of Object.entries(operation.events)) {
    const id = spec.acknowledged ? eventId(name, event) : idOf(replies, spec.schema);
    events.push({ event, data: ref(id), description: spec.summary });
  }
  events.push({ event: 'trace', data: ref('TraceEvent'), description: 'a wire line, when link.trace asked' });
  events.push({
    event: 'result',
    data: { oneOf: [ref(`${title(name)}Done`), ref(`${title(name)}Failed`)] },
    description: 'the end: { report }, or { error, report? }',
  });
  return {
    post: {
      operationId: name,
      summary: operation.summary,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: ref(`${title(name)}Request`) } },
      },
      responses: {
        '200': {
          description: `the result; with Accept: text/event-stream, the events of the run and then the result (${events.map((e) => e.event).join(', ')})`,
          content: {
            'application/json': { schema: ref(idOf(replies, operation.result)) },
            'text/event-stream': {
              schema: {
                oneOf: events.map(({ event, data, description }) => ({
                  type: 'object',
                  ...(description !== undefined && { description }),
                  properties: { event: { const: event }, data },
                  required: ['event', 'data'],
                })),
              },
            },
          },
        },
        ...errorResponses(),
      },
    },
  };
}

export function openApiDocument(options: { version?: string } = {}): Json {
  const { requests, replies } = registries();
  const paths: Json = {
    '/v1/health': get('who answers: pid, state, version, station, audit trail', ref('DaemonHealth')),
    '/v1/terminals': get('the terminals the daemon knows', ref('TerminalList')),
    '/v1/status': get(
      'each terminal with its condition, what it is busy with and how its last operation ended',
      ref('StatusList'),
    ),
    '/v1/events': {
      get: {
        operationId: 'events',
        summary: 'the hub events as they happen (server-sent events; `: heartbeat` comments keep it alive)',
        responses: {
          '200': {
            description: 'an event stream: each event is named by its type',
            content: { 'text/event-stream': { schema: ref('HubEvent') } },
          },
          ...errorResponses(),
        },
      },
    },
    '/v1/openapi.json': get('this document', { type: 'object' }),
    [DASHBOARD_LINK_PATH]: {
      post: {
        operationId: 'dashboardLink',
        summary: "a new one-time login URL of the daemon's dashboard (the last unspent one stops working)",
        responses: {
          '200': {
            description: 'the URL',
            content: { 'application/json': { schema: ref('DashboardLink') } },
          },
          ...errorResponses(),
        },
      },
    },
  };
  for (const name of OPERATION_NAMES) paths[`/v1/${name}`] = operationPath(name, replies);
  const acknowledged = OPERATION_NAMES.flatMap((name) =>
    Object.entries(operationOf(name).events)
      .filter(([, spec]) => spec.acknowledged)
      .map(([event]) => event),
  );
  paths['/v1/operations/{id}/{event}'] = {
    post: {
      operationId: 'acknowledge',
      summary:
        'the caller kept (or could not keep) what an acknowledged event handed it; the run waits for this',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          schema: { type: 'string' },
          description: 'the id of the operation event',
        },
        { name: 'event', in: 'path', required: true, schema: { enum: [...new Set(acknowledged)] } },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref('Acknowledgement') } } },
      responses: {
        '200': {
          description: 'taken',
          content: {
            'application/json': { schema: { type: 'object', properties: { ok: { const: true } } } },
          },
        },
        ...errorResponses(),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'posbridge local API',
      version: options.version ?? API_VERSION,
      description:
        'The posbridge daemon over its Unix socket: terminals, their events, and every engine operation. See docs/api.md.',
    },
    servers: [{ url: 'http://localhost', description: 'over the Unix socket (curl --unix-socket PATH)' }],
    paths,
    components: {
      schemas: { ...components(requests, 'input'), ...components(replies, 'output') },
    },
  };
}

function get(summary: string, schema: Json): Json {
  return {
    get: {
      summary,
      responses: {
        '200': { description: summary, content: { 'application/json': { schema } } },
        ...errorResponses(),
      },
    },
  };
}
