/**
 * Errors the mock terminal raises to whoever starts it (never to the wire: the wire gets TSP/1
 * ERR lines), on the coded-error base every posbridge error shares. Each message is one line a
 * person can act on, naming the option, file or field.
 */
import { CodedError } from '../protocol/index.js';

export type MockConfigErrorCode = 'INVALID_OPTION' | 'STATE_FILE';

export class MockConfigError extends CodedError<MockConfigErrorCode> {
  override readonly name = 'MockConfigError';
  constructor(message: string, code: MockConfigErrorCode = 'INVALID_OPTION', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function isMockConfigError(error: unknown): error is MockConfigError {
  return error instanceof MockConfigError;
}
