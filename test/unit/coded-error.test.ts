/** One coded-error base (src/protocol/coded-error.ts CodedError) under PosbridgeError and AuditError. */
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src/audit/errors.js';
import { PosbridgeError } from '../../src/host/errors.js';
import { CodedError } from '../../src/protocol/coded-error.js';

describe('coded errors', () => {
  it('an audit error is a coded error with the same JSON shape as a PosbridgeError', () => {
    const audit = new AuditError('AUDIT_BUSY', 'busy', { hint: 'wait', details: { file: 'a.db' } });
    const host = new PosbridgeError('PORT_BUSY', 'busy', { hint: 'wait', details: { file: 'a.db' } });
    expect(audit).toBeInstanceOf(CodedError);
    expect(host).toBeInstanceOf(CodedError);
    expect(Object.keys(audit.toJSON())).toEqual(Object.keys(host.toJSON()));
    expect(audit.toJSON()).toEqual({ code: 'AUDIT_BUSY', message: 'busy', hint: 'wait', file: 'a.db' });
  });

  it('an audit error is still not a PosbridgeError (each keeps its own codes in the one table)', () => {
    expect(new AuditError('AUDIT_CORRUPT', 'x')).not.toBeInstanceOf(PosbridgeError);
    expect(new AuditError('AUDIT_CORRUPT', 'x').name).toBe('AuditError');
  });
});
