/**
 * The last line of defence against a secret in the audit trail (docs/cli.md, "Secrets").
 * Callers are expected to pass only what is safe to keep: the workflow's StepRecords, diagnostics,
 * identities, masked values. This scrub refuses, before anything is written, the mistakes that can
 * be recognised generically:
 *
 * - a key that names a secret: the one list of src/protocol/secret-keys.ts (`password`, `old`,
 *   `new`, `confirm`, `adminPassword`, `secret`, `passwd`, `pw`, `pin`, ..., and any key
 *   containing "password", "passwd" or "secret"; case, `-`, `_`, `.` and spaces ignored), the
 *   same list maskLine uses for wire lines;
 * - a `Secret` object, whatever its key;
 * - a key that names a settlement/bank account whose value is not masked to at most its last four
 *   characters (`****1234`);
 * - a URL with a password in it (`scheme://user:pass@host`).
 *
 * What it cannot see: a secret inside free text under an innocent key (a step `detail` of
 * "set account 6222020200112233445", a password typed as a technician name). Recognising every
 * account number or password in prose is not possible in general, so callers must pass only
 * masked values and must never build `detail` text from secret material.
 *
 * A refusal names the key path, never the value.
 */
import { isSecret } from '../host/secret.js';
import { isSecretKey, normaliseKeyName } from '../protocol/secret-keys.js';
import { AuditError } from './errors.js';

export { isSecretKey };

const ACCOUNT_KEYS = new Set(['settleaccount', 'settlementaccount', 'bankaccount', 'account', 'iban']);
/** Masked: any number of `*` (or none), then at most the last four characters. */
const MASKED_ACCOUNT = /^\**[A-Za-z0-9]{0,4}$/;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]*@/i;

function refuse(path: string, why: string): never {
  throw new AuditError('AUDIT_SECRET_REFUSED', `refusing to write ${path} to the audit trail: ${why}`, {
    hint: 'the audit trail never holds a secret; pass masked values only (a bug in the caller)',
    details: { path },
  });
}

function walk(value: unknown, path: string, depth: number): void {
  if (depth > 64) return; // canonicalJson refuses it with a clearer message
  if (isSecret(value)) refuse(path, 'it is a Secret');
  if (typeof value === 'string') {
    if (URL_WITH_PASSWORD.test(value)) refuse(path, 'it holds a URL with a password');
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      walk(item, `${path}[${i}]`, depth + 1);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const itemPath = `${path}.${key}`;
    if (isSecretKey(key)) refuse(itemPath, `the key "${key}" names a secret`);
    if (ACCOUNT_KEYS.has(normaliseKeyName(key)) && item !== undefined && item !== null) {
      if (typeof item !== 'string' || !MASKED_ACCOUNT.test(item)) {
        refuse(itemPath, 'an account number must be masked to its last four characters (****1234)');
      }
    }
    walk(item, itemPath, depth + 1);
  }
}

/** Throws AUDIT_SECRET_REFUSED if `value` carries something that looks like a secret. */
export function assertNoSecrets(value: unknown, root = 'record'): void {
  walk(value, root, 0);
}
