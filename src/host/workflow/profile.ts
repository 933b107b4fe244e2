/**
 * The provisioning profile: settings and operators a terminal should end up with, and its schema
 * (the operation table validates a request's profile with it). Reading one from a JSON or YAML
 * file is profile-file.ts.
 */
import { z } from 'zod';
import {
  DIAG_CHECK_ORDER,
  isDiagCheck,
  isSettingKey,
  isTextWithin,
  OPERATOR_ID,
  PERMISSIONS,
  SETTINGS,
} from '../../protocol/index.js';

const operatorSchema = z
  .object({
    id: z.string().regex(OPERATOR_ID, 'must be two digits 01-99'),
    name: z.string().refine((n) => isTextWithin(n, 1, 32), 'must be 1 to 32 bytes of UTF-8 text'),
    perms: z
      .array(z.enum(PERMISSIONS))
      .min(1, 'must list at least one of sale, refund, query, report, settings')
      .refine((p) => new Set(p).size === p.length, 'must not repeat a permission'),
    /**
     * Where the operator's first password comes from: generated (default), or an environment
     * variable / file named here. Never the password itself: profiles get committed and shared.
     */
    password: z
      .union([
        z.literal('generate'),
        z.object({ env: z.string().min(1) }).strict(),
        z.object({ file: z.string().min(1) }).strict(),
      ])
      .default('generate'),
  })
  .strict();

const settingsSchema = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .superRefine((settings, ctx) => {
    for (const [key, raw] of Object.entries(settings)) {
      if (!isSettingKey(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `unknown setting (known: ${Object.keys(SETTINGS).join(', ')})`,
        });
        continue;
      }
      if (key.startsWith('lockout.')) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'lockout settings are not set by a profile (they guard the terminal)',
        });
        continue;
      }
      const spec = SETTINGS[key];
      if (spec.parse(String(raw)) === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `must be ${spec.rule}` });
    }
  });

export const profileSchema = z
  .object({
    settings: settingsSchema.default({}),
    operators: z.array(operatorSchema).default([]),
    /** What happens to the factory operator 01 when the profile does not list it. */
    factoryOperator: z.enum(['replace-password', 'delete']).default('replace-password'),
    /** Set the terminal clock from this machine's clock. */
    setClock: z.boolean().default(true),
    /**
     * Checks to run (default: all twelve). Checked here like the rest of the profile: a typo
     * found by the terminal at the DIAG step would stop a run that already changed it.
     */
    diagChecks: z
      .array(z.string().refine(isDiagCheck, `unknown check (known: ${DIAG_CHECK_ORDER.join(', ')})`))
      .min(1, 'must name at least one check (leave diagChecks out to run them all)')
      .refine((checks) => new Set(checks).size === checks.length, 'must not name a check twice')
      .optional(),
  })
  .strict()
  .superRefine((profile, ctx) => {
    const ids = profile.operators.map((o) => o.id);
    ids.forEach((id, index) => {
      if (ids.indexOf(id) !== index)
        ctx.addIssue({
          code: 'custom',
          path: ['operators', index, 'id'],
          message: `operator ${id} listed twice`,
        });
    });
  });

export type Profile = z.output<typeof profileSchema>;
export type OperatorSpec = Profile['operators'][number];

export const DEFAULT_PROFILE: Profile = profileSchema.parse({});

// What a run reads of a profile lives apart from its schema.
export { canonicalPerms, desiredSettings } from './profile-rules.js';
