/**
 * The payload of every topic (docs/fleet.md, "Payloads"), as zod schemas: the daemon builds its
 * messages through them, `fleet status` and `fleet collect` read through them (a message that
 * does not fit is reported, never half-read), and docs/fleet.md carries the JSON Schema generated
 * from them (test/unit/fleet-topics.test.ts checks the page against `payloadJsonSchemas()`).
 *
 * Every payload is one JSON object with `v: 1`; a reader ignores nothing silently: an unknown
 * field is a newer writer, and `v` says which.
 */
import { z } from 'zod';

const iso = z.string().min(1).describe('ISO 8601 time, UTC, with milliseconds');
const station = z.string().min(1).max(128).describe("the station's name (daemon config `station`)");
const version = z.literal(1).describe('payload version');

export const statusPayload = z
  .object({
    v: version,
    station,
    state: z.enum(['online', 'offline']),
    since: iso
      .optional()
      .describe('when this state began; absent in the last will (the broker lost the link)'),
    version: z.string().optional().describe('the posbridge version (online only)'),
  })
  .strict()
  .meta({
    title: 'status',
    description: 'whether the station is connected; retained, the last will says offline',
  });

export const terminalPayload = z
  .object({
    v: version,
    station,
    sn: z.string().min(1).describe("the terminal's serial number (HELLO sn)"),
    model: z.string(),
    fw: z.string(),
    port: z.string().describe('where it is plugged in (device path, tcp://..., mock://...)'),
    state: z
      .enum(['identifying', 'present', 'busy', 'gone', 'error'])
      .describe('the port manager\'s state of it (docs/daemon.md, "Hot-plug")'),
    since: iso.describe('when it entered this state'),
    status: z
      .object({
        state: z.enum(['factory', 'initialized']),
        locked: z.boolean(),
        tamper: z.boolean(),
        attemptsLeft: z.number().int().min(0).optional(),
        factoryPw: z.array(z.string()).describe('accounts still holding a factory password'),
        merchant: z.string().optional(),
        terminal: z.string().optional(),
        name: z.string().optional(),
      })
      .strict()
      .optional()
      .describe('its last STATUS answer (docs/protocol.md)'),
  })
  .strict()
  .meta({
    title: 'terminal',
    description: 'one terminal of the station; retained; an empty retained message once it is unplugged',
  });

export const stepPayload = z
  .object({
    v: version,
    station,
    run: z.string().describe('the run ID, as in the audit trail'),
    seq: z.number().int().min(1).describe('the audit record of this step'),
    step: z.string(),
    outcome: z.enum(['done', 'already', 'failed', 'skipped', 'planned']),
    detail: z.string(),
    startedAt: iso,
    finishedAt: iso,
  })
  .strict()
  .meta({ title: 'step', description: 'one step of a run, as it is recorded (QoS 0: for live views)' });

export const runsPayload = z
  .object({
    v: version,
    station,
    runs: z
      .array(
        z
          .object({
            run: z.string(),
            kind: z.enum(['provision', 'diag', 'passwd', 'operator']),
            outcome: z.string().describe('provisioned, already-provisioned, ..., ok, failed or unfinished'),
            port: z.string(),
            sn: z.string().optional(),
            model: z.string().optional(),
            startedAt: iso,
            finishedAt: iso.optional(),
            auditHead: z.string().describe("SEQ:HASH of the run's last audit record"),
          })
          .strict(),
      )
      .max(50)
      .describe('newest first'),
  })
  .strict()
  .meta({ title: 'runs', description: 'the last runs of the station; retained' });

export const auditPayload = z
  .object({
    v: version,
    station,
    seq: z.number().int().min(1),
    at: iso,
    run: z.string(),
    type: z.string().describe('run-start, terminal, step, diagnostics or run-finish'),
    payload: z.string().describe('the canonical JSON text that was hashed, exactly as stored'),
    prevHash: z.string().regex(/^[0-9a-f]{64}$/),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('sha256(prevHash + {"at":..,"payload":<payload>,"run":..,"seq":..,"type":..})'),
  })
  .strict()
  .meta({ title: 'audit', description: 'one audit record exactly as chained (QoS 1)' });

export const replayPayload = z
  .object({
    v: version,
    from: z.number().int().min(1).describe('send the records again from this seq'),
  })
  .strict()
  .meta({ title: 'replay', description: "a collector's request to the station (QoS 1)" });

export type StatusPayload = z.infer<typeof statusPayload>;
export type TerminalPayload = z.infer<typeof terminalPayload>;
export type StepPayload = z.infer<typeof stepPayload>;
export type RunsPayload = z.infer<typeof runsPayload>;
export type AuditPayload = z.infer<typeof auditPayload>;
export type ReplayPayload = z.infer<typeof replayPayload>;

/** The topic table of docs/fleet.md, in its order. */
export const TOPICS = [
  { topic: '<prefix>/status', schema: statusPayload, qos: 1, retained: true, from: 'station' },
  { topic: '<prefix>/terminals/<sn>', schema: terminalPayload, qos: 1, retained: true, from: 'station' },
  { topic: '<prefix>/runs', schema: runsPayload, qos: 1, retained: true, from: 'station' },
  { topic: '<prefix>/runs/<run>/steps', schema: stepPayload, qos: 0, retained: false, from: 'station' },
  { topic: '<prefix>/audit', schema: auditPayload, qos: 1, retained: false, from: 'station' },
  { topic: '<prefix>/audit/replay', schema: replayPayload, qos: 1, retained: false, from: 'collector' },
] as const;

/** The JSON Schema of each payload, by title, generated from the zod schemas above. */
export function payloadJsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    TOPICS.map(({ schema }) => [
      schema.meta()?.title as string,
      z.toJSONSchema(schema, { target: 'draft-2020-12' }),
    ]),
  );
}

/** A received message read through its schema: the value, or a sentence saying what is wrong. */
export function readPayload<T>(
  schema: z.ZodType<T>,
  bytes: Uint8Array,
): { ok: true; value: T } | { ok: false; problem: string } {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, problem: `${issue.path.join('.') || '(payload)'}: ${issue.message}` };
}
