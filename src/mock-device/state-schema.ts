/**
 * The state file's shape, checked with zod when a mock starts from `--state FILE`: a hand-edited
 * or truncated file gets an error naming the field, never a half-loaded terminal. Values are held
 * to the same rules the terminal enforces on the wire, so a loaded state can always be served.
 */
import { z } from 'zod';
import {
  DIAG_CHECK_ORDER,
  type DiagCheck,
  diagCode,
  identityProblem,
  isTextWithin,
  MERCHANT_NUMBER,
  OPERATOR_ID,
  PERMISSIONS,
  SETTING_KEYS,
  SETTINGS,
  type SettingKey,
  TERMINAL_NUMBER,
} from '../protocol/index.js';
import { type PersistentState, STATE_VERSION } from './state.js';

const identityField = z.string().superRefine((value, ctx) => {
  const problem = identityProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const password = z.object({
  salt: z.string().regex(/^[0-9a-f]{16}$/, '16 hex digits'),
  hash: z.string().regex(/^[0-9a-f]{64}$/, '64 hex digits'),
});

const account = z.object({ password, mustChange: z.boolean(), factoryPassword: z.boolean() });

const operator = account.extend({
  name: z.string().refine((v) => isTextWithin(v, 1, 32), '1 to 32 bytes of UTF-8'),
  perms: z
    .array(z.enum(PERMISSIONS))
    .min(1)
    .refine((p) => new Set(p).size === p.length, 'no repeated permission')
    .transform((p) => PERMISSIONS.filter((known) => p.includes(known))),
});

const settings = z.object(
  Object.fromEntries(
    SETTING_KEYS.map((key) => [
      key,
      z
        .string()
        .refine((v) => v === SETTINGS[key].factory || SETTINGS[key].parse(v) === v, SETTINGS[key].rule),
    ]),
  ) as unknown as Record<SettingKey, z.ZodType<string>>,
);

const diagFaults = z.record(z.string(), z.string()).superRefine((faults, ctx) => {
  for (const [check, code] of Object.entries(faults)) {
    if (!(DIAG_CHECK_ORDER as string[]).includes(check)) {
      ctx.addIssue({
        code: 'custom',
        path: [check],
        message: `unknown check (known: ${DIAG_CHECK_ORDER.join(', ')})`,
      });
    } else if (!diagCode(check as DiagCheck, code)) {
      ctx.addIssue({ code: 'custom', path: [check], message: `unknown code ${code} for check ${check}` });
    }
  }
});

const nonNegativeInt = z.number().int().min(0);

export const persistentStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  identity: z.object({ model: identityField, sn: identityField, fw: identityField }),
  admin: account,
  operators: z.record(z.string().regex(OPERATOR_ID, 'two digits 01-99'), operator),
  binding: z
    .object({
      merchant: z.string().regex(MERCHANT_NUMBER, '15 digits'),
      terminal: z.string().regex(TERMINAL_NUMBER, '8 digits'),
      name: z.string().refine((v) => v === '' || isTextWithin(v, 1, 40), 'at most 40 bytes of UTF-8'),
    })
    .nullable(),
  settings,
  lockout: z.object({ failures: nonNegativeInt, lockedUntil: z.number().nullable() }),
  clock: z.object({ offsetMs: z.number().int(), set: z.boolean() }),
  hardware: z.object({ tamper: z.boolean(), diagFaults }),
});

export type ParsedState =
  | { ok: true; state: PersistentState }
  | { ok: false; field: string; problem: string };

/** Validates a parsed JSON document; on failure names the first bad field (dotted path). */
export function parsePersistentState(document: unknown): ParsedState {
  const result = persistentStateSchema.safeParse(document);
  if (result.success) return { ok: true, state: result.data as PersistentState };
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(document)';
  return { ok: false, field, problem: issue.message };
}
