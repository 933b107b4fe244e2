import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { isPosbridgeError, isTerminalError, PosbridgeError, TerminalError } from '../../src/host/errors.js';
import { revealValue, Secret } from '../../src/host/secret.js';

describe('Secret', () => {
  const secret = new Secret('hunter2-Pass');

  it('reveals only on request', () => {
    expect(secret.reveal()).toBe('hunter2-Pass');
    expect(revealValue(secret)).toBe('hunter2-Pass');
    expect(revealValue('plain')).toBe('plain');
    expect(secret.length).toBe(12);
    expect(secret.equals(new Secret('hunter2-Pass'))).toBe(true);
  });

  it('prints as *** everywhere else', () => {
    expect(String(secret)).toBe('***');
    expect(`${secret}`).toBe('***');
    expect(`x${secret}`).toBe('x***');
    expect(JSON.stringify({ password: secret })).toBe('{"password":"***"}');
    expect(inspect({ password: secret }, { showHidden: true, depth: 5 })).not.toContain('hunter2');
    expect(Object.keys(secret)).toEqual([]);
    expect({ ...secret }).toEqual({});
  });

  it('does not leak through pino', () => {
    const out: string[] = [];
    const logger = pino(
      {},
      new Writable({
        write(chunk, _e, done) {
          out.push(String(chunk));
          done();
        },
      }),
    );
    logger.info({ password: secret, nested: { s: secret } }, `login with ${secret}`);
    expect(out.join('')).not.toContain('hunter2');
    expect(out.join('')).toContain('***');
  });
});

describe('errors', () => {
  it('TerminalError keeps status, reason, all fields and parses remaining / retry_after / key', () => {
    const e = new TerminalError({
      verb: 'LOGIN',
      id: '12',
      fields: { code: '401', reason: 'bad-credentials', remaining: '2', extra: 'x' },
    });
    expect(e).toBeInstanceOf(PosbridgeError);
    expect(e.code).toBe('TERMINAL_ERROR');
    expect(e.status).toBe(401);
    expect(e.reason).toBe('bad-credentials');
    expect(e.remaining).toBe(2);
    expect(e.fields.extra).toBe('x');
    expect(e.hint).toMatch(/2 attempt/);
    expect(e.message).toContain('LOGIN');
    expect(isTerminalError(e)).toBe(true);
    expect(isTerminalError(e, 401)).toBe(true);
    expect(isTerminalError(e, 401, 'auth-required')).toBe(false);
    expect(isTerminalError(e, 423)).toBe(false);

    const locked = new TerminalError({
      verb: 'LOGIN',
      fields: { code: '423', reason: 'locked', retry_after: '120' },
    });
    expect(locked.retryAfter).toBe(120);
    expect(locked.hint).toContain('locked for 120 more seconds');
    const invalid = new TerminalError({
      verb: 'SET',
      fields: { code: '422', reason: 'invalid-value', key: 'host.port' },
    });
    expect(invalid.key).toBe('host.port');
    expect(invalid.remaining).toBeUndefined();
  });

  it('maps errors to the exit codes of the command line', () => {
    const t = (fields: Record<string, string>) => new TerminalError({ verb: 'X', fields });
    expect(exitCodeFor(t({ code: '422', reason: 'invalid-value' }))).toBe(EXIT.refused);
    expect(exitCodeFor(t({ code: '401', reason: 'bad-credentials', remaining: '3' }))).toBe(1);
    expect(exitCodeFor(t({ code: '401', reason: 'bad-credentials', remaining: '0' }))).toBe(4);
    expect(exitCodeFor(t({ code: '423', reason: 'locked', retry_after: '5' }))).toBe(4);
    expect(exitCodeFor(t({ code: '503', reason: 'busy' }))).toBe(3);
    expect(exitCodeFor(new PosbridgeError('USAGE', 'x'))).toBe(2);
    expect(exitCodeFor(new PosbridgeError('WEAK_PASSWORD', 'x'))).toBe(2);
    for (const code of ['PORT_NOT_FOUND', 'PORT_BUSY', 'DISCONNECTED', 'TIMEOUT', 'REBOOTED'] as const) {
      expect(exitCodeFor(new PosbridgeError(code, 'x'))).toBe(3);
    }
    expect(exitCodeFor(new PosbridgeError('LOCKOUT_RISK', 'x'))).toBe(4);
    expect(exitCodeFor(new PosbridgeError('LOCKED', 'x'))).toBe(4);
    expect(exitCodeFor(new PosbridgeError('TAMPERED', 'x'))).toBe(1);
    expect(exitCodeFor(new Error('bug'))).toBe(1);
  });

  it('has guards and a JSON view without stack', () => {
    const e = new PosbridgeError('PORT_BUSY', 'port busy', { hint: 'close it', details: { port: '/dev/x' } });
    expect(isPosbridgeError(e)).toBe(true);
    expect(isPosbridgeError(e, 'PORT_BUSY')).toBe(true);
    expect(isPosbridgeError(e, 'TIMEOUT')).toBe(false);
    expect(isPosbridgeError(new Error('x'))).toBe(false);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'PORT_BUSY',
      message: 'port busy',
      hint: 'close it',
      port: '/dev/x',
    });
  });
});
