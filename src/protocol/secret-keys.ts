/**
 * The one list of names under which a secret travels, used everywhere a secret must be caught by
 * its name: maskLine (wire lines in traces, logs, the console and its history), the audit
 * scrubber (records) and the CLI's logger (log fields).
 *
 * It holds TSP/1's secret arguments (LOGIN `password`, PASSWD `old`/`new`/`confirm`, USER-ADD
 * `password`; docs/protocol.md §15), the forms a person types by mistake in a console (`passwd=`,
 * `pass=`, `pw=`, `pwd=`, `PASSWORD=`), and the names a record or log field would use
 * (`adminPassword`, `secret`, `pin`). Names compare without case, `-`, `_`, `.` or spaces, and any
 * name containing "password", "passwd" or "secret" counts too.
 */

/** Secret wherever they appear: request, reply, record or log field. */
export const SECRET_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'pw',
  'passcode',
  'passphrase',
  'pin',
  'secret',
  'old',
  'new',
  'confirm',
  'adminPassword',
  'newPassword',
  'oldPassword',
];

/**
 * Secret only in a request line (a person's typo for `password=`): elsewhere `pass` is the count
 * of passed checks (DIAG's `OK pass=N`, reports), which is not a secret.
 */
export const REQUEST_ONLY_SECRET_KEYS: readonly string[] = ['pass'];

const PARTS = ['password', 'passwd', 'secret'];

export function normaliseKeyName(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

const ALWAYS = new Set(SECRET_KEYS.map(normaliseKeyName));
const REQUEST_ONLY = new Set(REQUEST_ONLY_SECRET_KEYS.map(normaliseKeyName));

/** A name that holds a secret in any record, reply or log field. */
export function isSecretKey(key: string): boolean {
  const k = normaliseKeyName(key);
  return ALWAYS.has(k) || PARTS.some((part) => k.includes(part));
}

/**
 * Exactly one of the names of the list (no "contains"): a word a person types as a label before
 * a password (`password PW`). A password that contains "secret" is not a label.
 */
export function isSecretKeyName(word: string): boolean {
  const k = normaliseKeyName(word);
  return ALWAYS.has(k) || REQUEST_ONLY.has(k);
}

/** A name that holds a secret in a request line (what a person or a host sends to a terminal). */
export function isSecretRequestKey(key: string): boolean {
  return isSecretKey(key) || REQUEST_ONLY.has(normaliseKeyName(key));
}
