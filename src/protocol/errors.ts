/** Every TSP/1 error code with its slugs. One table for the mock, the daemon and the docs. */

export const ERROR_CODES = {
  400: {
    name: 'syntax',
    slugs: ['syntax'],
    meaning: 'the line could not be read, or its arguments are wrong',
  },
  401: {
    name: 'unauthorized',
    slugs: ['auth-required', 'bad-credentials'],
    meaning: 'no login, or the password was wrong (`remaining=N` attempts left)',
  },
  403: { name: 'forbidden', slugs: ['permission'], meaning: 'an operator asked for an admin-only command' },
  404: { name: 'unknown command', slugs: ['unknown-command'], meaning: 'the verb is not a TSP/1 command' },
  409: {
    name: 'conflict',
    slugs: ['wrong-state', 'exists'],
    meaning: 'the terminal is not in a state that allows it',
  },
  413: { name: 'too long', slugs: ['line-too-long'], meaning: 'the line exceeded 512 bytes' },
  422: {
    name: 'invalid',
    slugs: ['invalid-value', 'weak-password', 'unknown-key', 'unknown-user', 'unknown-check'],
    meaning: 'an argument was read but its value is not acceptable',
  },
  423: { name: 'locked', slugs: ['locked'], meaning: 'too many failed attempts; `retry_after=S` seconds' },
  428: {
    name: 'password change required',
    slugs: ['password-change-required'],
    meaning: 'the logged-in account must change its password first',
  },
  460: { name: 'bad CRC', slugs: ['bad-crc'], meaning: 'the line CRC did not match its bytes' },
  500: { name: 'internal', slugs: ['internal'], meaning: 'the terminal failed' },
  503: { name: 'unavailable', slugs: ['not-ready', 'busy'], meaning: 'rebooting, or busy; try again' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorSlug = (typeof ERROR_CODES)[ErrorCode]['slugs'][number];

export function isErrorCode(code: number): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The code a slug belongs to (each slug is unique across codes). */
export function codeOfSlug(slug: ErrorSlug): ErrorCode {
  for (const [code, entry] of Object.entries(ERROR_CODES)) {
    if ((entry.slugs as readonly string[]).includes(slug)) return Number(code) as ErrorCode;
  }
  throw new Error(`unknown slug ${slug}`);
}

/**
 * Replies the terminal does not keep for replay: the request was not understood or not executed,
 * so a retransmission must run (docs/protocol.md §7, §8).
 */
export const NOT_REPLAYED: ReadonlySet<number> = new Set([400, 413, 460, 503]);
