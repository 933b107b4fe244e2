/**
 * The fields operation requests are made of, validated with zod where a request crosses a
 * boundary (the daemon's API, its client). Every message names what is wrong, never the value:
 * it may be a secret.
 *
 * A secret is a codec: read as text, it becomes a Secret at once (decode); only encoding a
 * request for the wire (the daemon's client writing the body) reveals it again.
 */
import { z } from 'zod';
import {
  checkPassword,
  isDiagCheck,
  isTextWithin,
  OPERATOR_ID,
  PASSWORD_PROBLEM_TEXT,
  PERMISSIONS,
} from '../../protocol/index.js';
import { Secret } from '../secret.js';

/** A required string. */
export function text(what = 'a string') {
  return z.string({
    error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`),
  });
}

export const port = text('a port name (device path, tcp://..., rfc2217://..., telnet://..., mock://...)')
  .min(1, 'must not be empty')
  .meta({ description: 'the port: a device path, tcp://, rfc2217://, telnet:// or mock:// name' });

/**
 * A secret as it travels: text on the wire (checked against the password policy when it is a
 * new password), a Secret once read.
 */
export function secret(policy?: 'new-password') {
  const base = text('a string (the secret itself)').min(1, 'must not be empty');
  const checked =
    policy === 'new-password'
      ? base.superRefine((value, ctx) => {
          const problem = checkPassword(value);
          if (problem) ctx.addIssue({ code: 'custom', message: PASSWORD_PROBLEM_TEXT[problem] });
        })
      : base;
  return z
    .codec(checked, z.instanceof(Secret), {
      decode: (value) => new Secret(value),
      encode: (value) => value.reveal(),
    })
    .meta({
      format: 'password',
      description:
        policy === 'new-password'
          ? 'a new password: 6-32 printable ASCII characters, not a well-known default, a repeat or a straight run'
          : 'a secret, sent only in this body',
    });
}

export const operatorId = text('two digits 01-99').regex(OPERATOR_ID, 'must be two digits 01-99');

export const operatorName = text('1 to 32 bytes of UTF-8 text').refine(
  (n) => isTextWithin(n, 1, 32),
  'must be 1 to 32 bytes of UTF-8 text',
);

export const perms = z
  .array(z.enum(PERMISSIONS), { error: 'must be a list of sale, refund, query, report, settings' })
  .min(1, 'must list at least one permission')
  .refine((p) => new Set(p).size === p.length, 'must not repeat a permission');

export const diagChecks = z
  .array(text('a check name'))
  .min(1, 'must name at least one check')
  .superRefine((checks, ctx) => {
    checks.forEach((check, index) => {
      if (!isDiagCheck(check))
        ctx.addIssue({ code: 'custom', path: [index], message: `unknown check "${check}"` });
    });
  });
