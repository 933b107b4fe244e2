/**
 * Errors the mock terminal raises to whoever starts it (never to the wire: the wire gets TSP/1
 * ERR lines). Each message is one line a person can act on, naming the option, file or field.
 */
export type MockConfigErrorCode = 'INVALID_OPTION' | 'STATE_FILE';

export class MockConfigError extends Error {
  override readonly name = 'MockConfigError';
  constructor(
    message: string,
    readonly code: MockConfigErrorCode = 'INVALID_OPTION',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMockConfigError(error: unknown): error is MockConfigError {
  return error instanceof MockConfigError;
}
