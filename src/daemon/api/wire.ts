/**
 * The local API's wire format, shared by the server, the client and the OpenAPI document: the
 * body of each operation's route (its request from the operation table, src/host/operations, plus
 * what only the API needs), the events of an operation's stream, error documents and the HTTP
 * status of each error code, and what /v1/health answers.
 *
 * Secrets travel only in request bodies (and, for a generated operator password, in the event
 * stream of the request that asked for it), over a socket only its owner can open: never in a
 * URL, a header or a log line.
 */
import { z } from 'zod';
import { PosbridgeError, type PosbridgeErrorCode, TerminalError } from '../../host/errors.js';
import { carriedError, isErrorCode } from '../../host/operations/carried.js';
import { text } from '../../host/operations/fields.js';
import { type OperationName, operationOf } from '../../host/operations/index.js';

export { carriedToError, errorToCarried, isErrorCode } from '../../host/operations/carried.js';

export const API_VERSION = 'v1';

/** Requests larger than this are refused (413): the biggest real one, a profile, is a few KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

/** What `GET /v1/health` answers: enough for a CLI to find the daemon and a second one to name it. */
export const daemonHealth = z.object({
  service: z.literal('posbridge'),
  api: z.literal(API_VERSION),
  pid: z.number().int(),
  socket: z.string(),
  state: z.enum(['starting', 'running', 'stopping']),
  startedAt: z.string(),
  /** Operations (info, provision, ...) running now. */
  operations: z.number().int().meta({ description: 'operations running now' }),
  version: z.string().optional(),
  station: z
    .string()
    .optional()
    .meta({ description: 'the station name its audit records get (config station, else the host name)' }),
  audit: z.string().optional().meta({ description: 'the audit trail it writes' }),
  baud: z.number().int().optional().meta({ description: 'the line rate it opens serial ports at' }),
  config: z.string().optional().meta({ description: 'the config file it read' }),
});

export type DaemonHealth = z.output<typeof daemonHealth>;

/** What a daemon tells of its setup in /v1/health. */
export type DaemonAbout = Pick<DaemonHealth, 'station' | 'audit' | 'baud' | 'config'>;

/** Every error the API answers: `{ error: { code, message, hint, ...details } }`, never a stack. */
export const wireError = z.looseObject({
  code: z.string().meta({ description: 'stable: the contract (see the status table)' }),
  message: z.string(),
  hint: z.string().optional().meta({ description: 'what to do next' }),
});

export type WireError = z.output<typeof wireError>;

/**
 * The HTTP status of each error code; also the list of codes a client may rebuild as they are.
 * The body's `code` is the contract; the status is for curl and proxies.
 */
export const HTTP_STATUS_BY_CODE: Record<PosbridgeErrorCode, number> = {
  USAGE: 400,
  INVALID_VALUE: 400,
  WEAK_PASSWORD: 400,
  PORT_NOT_FOUND: 404,
  PORT_BUSY: 409,
  LOCKOUT_RISK: 423,
  LOCKED: 423,
  TERMINAL_ERROR: 422,
  TAMPERED: 422,
  CHECK_FAILED: 422,
  UNSUPPORTED: 422,
  BAD_CREDENTIALS: 422,
  NOT_PROVISIONED: 422,
  WRONG_TERMINAL: 422,
  VERIFY_FAILED: 422,
  PORT_OPEN_FAILED: 502,
  PORT_LIST_FAILED: 502,
  DISCONNECTED: 502,
  BAD_REPLY: 502,
  REBOOTED: 502,
  CLOSED: 503,
  TIMEOUT: 504,
  // `posbridge fleet` only (never an API reply today): listed so every code has a status.
  BROKER_UNREACHABLE: 502,
  BROKER_REFUSED: 502,
  INTERNAL: 500,
};

// --- request bodies -------------------------------------------------------------------------

/**
 * What the caller asks of the link for this operation (host/link-options.ts): its wire trace
 * streamed back as `trace` events (the caller writes its own file), a reply timeout, the line rate
 * it expects (a port held open at another one is refused, exit 2).
 */
export const linkBody = z
  .object({
    trace: z
      .boolean()
      .optional()
      .meta({ description: 'send the wire lines back as trace events (needs the event stream)' }),
    timeoutMs: z
      .number({ error: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1 ms')
      .max(3_600_000, 'must be at most 3600000 ms')
      .optional()
      .meta({ description: 'reply timeout of normal commands during this operation (DIAG: 5 times it)' }),
    baudRate: z
      .number({ error: 'must be a positive whole number' })
      .int('must be a positive whole number')
      .positive('must be a positive whole number')
      .optional()
      .meta({ description: 'the line rate the caller expects: a port held open at another rate is refused' }),
  })
  .strict();

export type LinkBody = z.output<typeof linkBody>;

/**
 * The body of `POST /v1/<operation>`: the operation's request, plus what only the API needs:
 * `link`, and for each acknowledged event its opt-in flag (default true; false drops those events,
 * as an in-process call without a handler does).
 */
function buildRequestBody(name: OperationName) {
  const operation = operationOf(name);
  const optIns: Record<string, z.ZodType> = {};
  for (const [event, spec] of Object.entries(operation.events)) {
    if (!spec.acknowledged) continue;
    optIns[spec.acknowledged.optIn] = z
      .boolean()
      .default(true)
      .meta({
        description: `whether ${event} events come to the caller (on the event stream, each acknowledged with POST /v1/operations/{id}/${event}) before the run goes on; false drops them`,
      });
  }
  return operation.request.safeExtend({ link: linkBody.optional(), ...optIns });
}

export type RequestBody = ReturnType<typeof buildRequestBody>;

const requestBodies = new Map<OperationName, RequestBody>();

export function requestBody(name: OperationName): RequestBody {
  let body = requestBodies.get(name);
  if (!body) {
    body = buildRequestBody(name);
    requestBodies.set(name, body);
  }
  return body;
}

/** The answer to an acknowledged event (POST /v1/operations/{id}/{event}). */
export const ackBody = z
  .object({
    call: text().min(1).meta({ description: 'the call field of the event acknowledged' }),
    ok: z.boolean().meta({ description: 'true: kept, the run goes on; false: not kept, the run stops' }),
    error: carriedError.optional().meta({ description: 'why it was not kept (ok: false)' }),
  })
  .strict();

/** One line per problem, each naming its field: `request.merchant: must be 15 digits`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      const message =
        issue.code === 'unrecognized_keys'
          ? 'unknown field'
          : issue.code === 'invalid_key'
            ? `the key ${issue.issues.map((i) => i.message).join(', ')}`
            : issue.message;
      return `${path || '(body)'}: ${message}${keys}`;
    })
    .join('; ');
}

// --- the event stream of one operation ----------------------------------------------------

/**
 * Besides an operation's own events (host/operations), its stream carries `operation` first (its
 * ID, for acknowledgements), `trace` lines when `link.trace` asked for them, and `result` last:
 * `{ report }`, or `{ error, report? }`.
 */
export const operationStarted = z.object({ id: z.string(), name: z.string(), port: z.string() });

/** One wire line of an operation's trace (`trace` event): already masked by the daemon. */
export const traceEvent = z.object({
  at: z.iso.datetime(),
  direction: z.enum(['>', '<']),
  text: z.string(),
});

export type TraceEvent = z.output<typeof traceEvent>;

/** An acknowledged event carries `call`, which its acknowledgement names. */
export const ackCall = z.object({ call: z.string().min(1) });

/** An event's data as it travels: an acknowledged one with its `call`. */
export function wireEventSchema(schema: z.ZodType, acknowledged: boolean): z.ZodType {
  return acknowledged && schema instanceof z.ZodObject ? schema.extend(ackCall.shape) : schema;
}

// --- errors both ways ---------------------------------------------------------------------

/** The JSON of an error, without the stack or the cause chain (what the API answers). */
export function errorToWire(error: PosbridgeError): WireError {
  const json = error.toJSON() as WireError;
  return JSON.parse(JSON.stringify(json)) as WireError;
}

/**
 * An error document back into the error the engine threw: a TerminalError keeps its status and
 * reason (so exit codes match), other codes become a PosbridgeError with the same code, message,
 * hint and details.
 */
export function errorFromWire(wire: WireError): PosbridgeError {
  const { code, message, hint, ...details } = wire;
  const fields = details.fields;
  if (
    code === 'TERMINAL_ERROR' &&
    typeof details.verb === 'string' &&
    typeof fields === 'object' &&
    fields !== null &&
    Object.values(fields).every((v) => typeof v === 'string')
  ) {
    return new TerminalError({
      verb: details.verb,
      id: typeof details.id === 'string' ? details.id : undefined,
      fields: fields as Record<string, string>,
    });
  }
  return new PosbridgeError(isErrorCode(code) ? code : 'INTERNAL', String(message), {
    hint: typeof hint === 'string' ? hint : undefined,
    details,
  });
}

// --- values both ways -----------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `value` (what a schema gave) with the keys of each object in the order `original` has them:
 * zod writes an object's keys in its schema's order, the API keeps the order the engine made
 * (what a person reads in `--json` is the same through the daemon as without it).
 */
export function inOrderOf(original: unknown, value: unknown): unknown {
  if (Array.isArray(value))
    return Array.isArray(original) ? value.map((item, i) => inOrderOf(original[i], item)) : value;
  if (!isPlainObject(value) || !isPlainObject(original)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(original))
    if (Object.hasOwn(value, key)) out[key] = inOrderOf(original[key], value[key]);
  for (const key of Object.keys(value)) if (!Object.hasOwn(out, key)) out[key] = value[key];
  return out;
}

/**
 * A value as it goes out (secrets revealed by their codec), or the problems that keep it from
 * matching its schema.
 */
export function encodeFor(
  schema: z.ZodType,
  value: unknown,
): { ok: true; value: unknown } | { ok: false; problems: string } {
  const encoded = z.safeEncode(schema, value);
  if (!encoded.success) return { ok: false, problems: describeIssues(encoded.error) };
  return { ok: true, value: inOrderOf(value, encoded.data) };
}

/** A value as it comes in (secrets wrapped by their codec), or the problems found. */
export function decodeFrom(
  schema: z.ZodType,
  value: unknown,
): { ok: true; value: unknown } | { ok: false; problems: string } {
  const decoded = schema.safeParse(value);
  if (!decoded.success) return { ok: false, problems: describeIssues(decoded.error) };
  return { ok: true, value: inOrderOf(value, decoded.data) };
}
