/**
 * A secret (password, settlement account) that cannot leak into a log, a trace, an error message or
 * a JSON document by accident: every way of turning it into text gives `***`, and only an explicit
 * `reveal()` gives the value. The value lives in a private field, which neither `util.inspect`,
 * `JSON.stringify`, `Object.keys` nor a spread can see.
 */
import { inspect } from 'node:util';

export const SECRET_MASK = '***';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value in clear. Call it only where the value goes onto the wire. */
  reveal(): string {
    return this.#value;
  }

  /** Whether two secrets hold the same value, without revealing either. */
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return SECRET_MASK;
  }

  toJSON(): string {
    return SECRET_MASK;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_MASK;
  }

  [inspect.custom](): string {
    return SECRET_MASK;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** The value in clear, whether it is a Secret or a plain string. */
export function revealValue(value: string | Secret): string {
  return value instanceof Secret ? value.reveal() : value;
}
