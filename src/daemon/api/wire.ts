/**
 * The local API's wire format, shared by the server and the client: request bodies (validated
 * with zod at the boundary; secrets become Secret as they are read), error documents, the HTTP
 * status of each error code, and the events of an operation's stream.
 *
 * Secrets travel only in request bodies (and, for a generated operator password, in the event
 * stream of the request that asked for it), over a socket only its owner can open: never in a
 * URL, a header or a log line.
 */
import { z } from 'zod';
import { PosbridgeError, type PosbridgeErrorCode, TerminalError } from '../../host/errors.js';
import { Secret } from '../../host/secret.js';
import { profileSchema } from '../../host/workflow/profile.js';
import {
  checkPassword,
  isDiagCheck,
  isTextWithin,
  MERCHANT_NUMBER,
  OPERATOR_ID,
  PASSWORD_PROBLEM_TEXT,
  PERMISSIONS,
  TERMINAL_NUMBER,
} from '../../protocol/index.js';

export const API_VERSION = 'v1';

/** Requests larger than this are refused (413): the biggest real one, a profile, is a few KiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

/** What `GET /v1/health` answers: enough for a CLI to find the daemon and a second one to name it. */
export interface DaemonHealth {
  service: 'posbridge';
  api: typeof API_VERSION;
  pid: number;
  socket: string;
  state: 'starting' | 'running' | 'stopping';
  startedAt: string;
  /** Operations (info, provision, ...) running now. */
  operations: number;
  version?: string;
  /** The station name its audit records get (config `station`, else the host name). */
  station?: string;
  /** The audit trail it writes (POSBRIDGE_AUDIT, else config `audit`, else the data directory). */
  audit?: string;
  /** The line rate it opens serial ports at (config `baud`). */
  baud?: number;
  /** The config file it read (absent: all defaults). */
  config?: string;
}

/** What a daemon tells of its setup in /v1/health. */
export type DaemonAbout = Pick<DaemonHealth, 'station' | 'audit' | 'baud' | 'config'>;

/** Every error the API answers: `{ error: { code, message, hint, ...details } }`, never a stack. */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
  [detail: string]: unknown;
}

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
  INTERNAL: 500,
};

export function isErrorCode(code: unknown): code is PosbridgeErrorCode {
  return typeof code === 'string' && Object.hasOwn(HTTP_STATUS_BY_CODE, code);
}

// --- request bodies -------------------------------------------------------------------------

/** A required string; the message names what is wrong, never the value (it may be a secret). */
function text(what = 'a string') {
  return z.string({
    error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`),
  });
}

const port = text('a port name (device path, tcp://..., rfc2217://..., telnet://..., mock://...)').min(
  1,
  'must not be empty',
);

/** A secret as it arrives: checked as text, then wrapped at once. */
function secret(policy?: 'new-password') {
  const base = text('a string (the secret itself)').min(1, 'must not be empty');
  const checked =
    policy === 'new-password'
      ? base.superRefine((value, ctx) => {
          const problem = checkPassword(value);
          if (problem) ctx.addIssue({ code: 'custom', message: PASSWORD_PROBLEM_TEXT[problem] });
        })
      : base;
  return checked.transform((value) => new Secret(value));
}

const operatorId = text('two digits 01-99').regex(OPERATOR_ID, 'must be two digits 01-99');
const operatorName = text('1 to 32 bytes of UTF-8 text').refine(
  (n) => isTextWithin(n, 1, 32),
  'must be 1 to 32 bytes of UTF-8 text',
);
const perms = z
  .array(z.enum(PERMISSIONS), { error: 'must be a list of sale, refund, query, report, settings' })
  .min(1, 'must list at least one permission')
  .refine((p) => new Set(p).size === p.length, 'must not repeat a permission');

/**
 * What the caller asks of the link for this operation (host/link-options.ts): its wire trace
 * streamed back as `trace` events (the caller writes its own file), a reply timeout, the line rate
 * it expects (a port held open at another one is refused, exit 2).
 */
export const linkBody = z
  .object({
    trace: z.boolean().optional(),
    timeoutMs: z
      .number({ error: 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1 ms')
      .max(3_600_000, 'must be at most 3600000 ms')
      .optional(),
    baudRate: z
      .number({ error: 'must be a positive whole number' })
      .int('must be a positive whole number')
      .positive('must be a positive whole number')
      .optional(),
  })
  .strict();

export type LinkBody = z.output<typeof linkBody>;

/** One wire line of an operation's trace (`trace` event): already masked by the daemon. */
export interface TraceEvent {
  at: string;
  direction: '>' | '<';
  text: string;
}

export const infoBody = z.object({ port, link: linkBody.optional() }).strict();

/** An error a client hands back in place of a value it could not produce (re-raised as is). */
const carriedError = z
  .object({
    /** Absent: the client's error was not a PosbridgeError. */
    code: z.string().optional(),
    message: z.string(),
    hint: z.string().optional(),
  })
  .strict();

export const provisionBody = z
  .object({
    request: z
      .object({
        port,
        merchant: text('15 digits').regex(MERCHANT_NUMBER, 'must be 15 digits'),
        terminal: text('8 digits').regex(TERMINAL_NUMBER, 'must be 8 digits'),
        name: text('1 to 40 bytes of UTF-8 text')
          .refine((n) => isTextWithin(n, 1, 40), 'must be 1 to 40 bytes of UTF-8 text')
          .optional(),
        /** The admin password the terminal must end up with (a dry run may leave it out). */
        adminPassword: secret('new-password').optional(),
        adminPasswordKnown: z.boolean().optional(),
        profile: profileSchema.default(profileSchema.parse({})),
        technician: text().min(1, 'must not be empty'),
        station: text().min(1, 'must not be empty'),
        dryRun: z.boolean().optional(),
      })
      .strict(),
    /**
     * First passwords of the profile's operators whose source is not `generate` (the client read
     * them from its environment or files), or the error reading one gave.
     */
    operatorPasswords: z
      .record(operatorId, z.union([secret(), z.object({ error: carriedError }).strict()]))
      .optional(),
    /**
     * Whether generated operator passwords go back to the caller (on the event stream, each
     * acknowledged with POST /v1/operations/:id/generated) before they are sent. Default true;
     * false drops them, like an engine call without `recordGenerated`.
     */
    recordGenerated: z.boolean().default(true),
    link: linkBody.optional(),
  })
  .strict();

export const diagBody = z
  .object({
    port,
    adminPassword: secret().optional(),
    checks: z
      .array(text('a check name'))
      .min(1, 'must name at least one check')
      .superRefine((checks, ctx) => {
        checks.forEach((check, index) => {
          if (!isDiagCheck(check))
            ctx.addIssue({ code: 'custom', path: [index], message: `unknown check "${check}"` });
        });
      })
      .optional(),
    link: linkBody.optional(),
  })
  .strict();

export const passwdBody = z
  .object({
    port,
    user: z
      .string()
      .refine((u) => u === 'admin' || OPERATOR_ID.test(u), 'must be admin or two digits 01-99')
      .optional(),
    adminPassword: secret(),
    newPassword: secret('new-password'),
    link: linkBody.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.user ?? 'admin') === 'admin' && body.newPassword.equals(body.adminPassword))
      ctx.addIssue({ code: 'custom', path: ['newPassword'], message: PASSWORD_PROBLEM_TEXT['same-as-old'] });
  });

export const operatorBody = z
  .object({
    port,
    adminPassword: secret().optional(),
    operation: z.discriminatedUnion(
      'action',
      [
        z.object({ action: z.literal('list') }).strict(),
        z
          .object({
            action: z.literal('add'),
            id: operatorId,
            name: operatorName,
            perms,
            password: secret('new-password'),
          })
          .strict(),
        z
          .object({
            action: z.literal('set'),
            id: operatorId,
            name: operatorName.optional(),
            perms: perms.optional(),
          })
          .strict()
          .refine((op) => op.name !== undefined || op.perms !== undefined, 'give name, perms or both'),
        z.object({ action: z.literal('del'), id: operatorId }).strict(),
      ],
      { error: 'action must be list, add, set or del' },
    ),
    link: linkBody.optional(),
  })
  .strict();

export const generatedAckBody = z
  .object({
    call: text().min(1),
    ok: z.boolean(),
    error: carriedError.optional(),
  })
  .strict();

export type ProvisionBody = z.output<typeof provisionBody>;

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

/** Events on the stream of POST /v1/provision and /v1/diag (with `Accept: text/event-stream`). */
export type OperationEventName =
  /** `{ id }`: the operation's ID, first. */
  | 'operation'
  /** TerminalIdentity, once HELLO named the terminal (provision). */
  | 'identified'
  /** StepRecord, as each provisioning step ends. */
  | 'step'
  /** DiagCheckResult, as each check ends (diag). */
  | 'check'
  /** `{ call, id, password }`: a generated operator password, to keep and acknowledge. */
  | 'generated'
  /** TraceEvent: a wire line of this operation, when `link.trace` asked for them. */
  | 'trace'
  /** `{ report }` or `{ error, report? }`: the end. */
  | 'result';

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

/** An error a client carried in a request (see `operatorPasswords`, the generated-password ack). */
export function carriedToError(carried: {
  code?: string | undefined;
  message: string;
  hint?: string | undefined;
}): Error {
  if (carried.code === undefined) return new Error(carried.message);
  return new PosbridgeError(isErrorCode(carried.code) ? carried.code : 'INTERNAL', carried.message, {
    hint: carried.hint,
  });
}

/** The other way: what a client sends in place of a value its callback failed to give. */
export function errorToCarried(error: unknown): { code?: string; message: string; hint?: string } {
  if (error instanceof PosbridgeError)
    return {
      code: error.code,
      message: error.message,
      ...(error.hint !== undefined && { hint: error.hint }),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}
