/** Shapes several groups check: field order, bare tokens, STATUS as a whole. */
import { expectThat } from '../expect.js';
import type { TspLine } from '../lines.js';
import { STATUS_FIELDS } from '../spec.js';

const BARE_TOKEN = /^[A-Za-z0-9_.:,+/-]+$/;

/**
 * The line carries `keys`, in that order (§7: "in the order a terminal MUST write them"). Keys
 * outside `known` (default: `keys`) are let through: receivers ignore keys they do not know (§4).
 */
export function expectKeys(
  line: TspLine,
  keys: readonly string[],
  what: string,
  known: readonly string[] = keys,
): void {
  const got = line.keys.filter((k) => known.includes(k));
  expectThat(
    got.length === keys.length && got.every((k, i) => k === keys[i]),
    `${what}: the fields are not the ones docs/protocol.md lists, in its order`,
    { expected: keys.join(' '), got: got.join(' ') },
  );
}

/** A bare token of 1 to `max` characters (§15 HELLO: model, sn, fw). */
export function isBareToken(value: string | undefined, max: number): boolean {
  return value !== undefined && value.length <= max && BARE_TOKEN.test(value);
}

/**
 * STATUS's fields in the D18 order, none missing that must be there: `attempts_left` only while
 * lockout is enabled (the caller says), merchant/terminal/name only once initialized.
 */
export function expectStatusShape(line: TspLine, options: { lockoutEnabled: boolean }): void {
  const initialized = line.fields.state === 'initialized';
  const want = STATUS_FIELDS.filter(
    (key) =>
      (key !== 'attempts_left' || options.lockoutEnabled) &&
      (initialized || !['merchant', 'terminal', 'name'].includes(key)),
  );
  expectKeys(line, want, 'STATUS', STATUS_FIELDS);
}
