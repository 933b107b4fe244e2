/**
 * One list of secret keys (src/protocol/secret-keys.ts): maskLine masks a value under any of its
 * names on a wire line, the audit scrubber refuses a record field of that name, and the CLI's
 * logger redacts it. A name added to the list is caught everywhere at once.
 */
import { describe, expect, it } from 'vitest';
import { assertNoSecrets } from '../../src/audit/index.js';
import { REDACTED_PATHS } from '../../src/cli/logger.js';
import {
  isSecretKey,
  isSecretKeyName,
  isSecretRequestKey,
  maskLine,
  SECRET_KEYS,
} from '../../src/protocol/index.js';

describe('the one list of secret keys', () => {
  it('holds the TSP/1 secret arguments and the forms a person types', () => {
    for (const key of ['password', 'old', 'new', 'confirm', 'passwd', 'pw', 'pwd', 'pin', 'secret'])
      expect(SECRET_KEYS).toContain(key);
  });

  it.each([...SECRET_KEYS])('%s: masked on a wire line, in any case', (key) => {
    expect(maskLine(`FROB ${key}=Qz7value`)).toBe(`FROB ${key}=***`);
    expect(maskLine(`FROB ${key.toUpperCase()}=Qz7value`)).toBe(`FROB ${key.toUpperCase()}=***`);
  });

  it.each([...SECRET_KEYS])('%s: refused by the audit trail', (key) => {
    expect(() => assertNoSecrets({ [key]: 'x' })).toThrow(/names a secret/);
  });

  it.each([...SECRET_KEYS])('%s: redacted in logs, at the top and nested', (key) => {
    expect(REDACTED_PATHS).toContain(key);
    expect(REDACTED_PATHS).toContain(`*.${key}`);
  });

  it('`pass` is a secret typed in a request, and the count of passed checks elsewhere', () => {
    expect(isSecretRequestKey('pass')).toBe(true);
    expect(isSecretKey('pass')).toBe(false);
    expect(maskLine('login user=admin pass=Qz7value')).toBe('login user=admin pass=***');
    expect(maskLine('@3 OK pass=11 warn=1 fail=0')).toBe('@3 OK pass=11 warn=1 fail=0');
    expect(() => assertNoSecrets({ diagnostics: { pass: 12, warn: 0, fail: 0 } })).not.toThrow();
  });

  it('a name that contains "password" or "secret" is one; a word that does is no label', () => {
    expect(isSecretKey('operatorPassword')).toBe(true);
    expect(isSecretKey('client_secret')).toBe(true);
    expect(isSecretKeyName('password')).toBe(true);
    expect(isSecretKeyName('MySecret-2024')).toBe(false);
  });
});
