/**
 * Which witness goes with which trail (src/cli/audit-target.ts): a witness checked against
 * another trail would cry tampering for nothing, and one left out would hide a cut.
 */
import { describe, expect, it } from 'vitest';
import { defaultAuditPath } from '../../src/audit/index.js';
import { auditTarget } from '../../src/cli/audit-target.js';

const HOME = { HOME: '/home/ana' };
const DEFAULT = defaultAuditPath(HOME);

describe('auditTarget', () => {
  it('in-process: POSBRIDGE_AUDIT or the data directory, with POSBRIDGE_AUDIT_WITNESS if set', () => {
    expect(auditTarget(HOME)).toEqual({ file: DEFAULT });
    expect(auditTarget({ ...HOME, POSBRIDGE_AUDIT: '/a.db', POSBRIDGE_AUDIT_WITNESS: '/mnt/w' })).toEqual({
      file: '/a.db',
      witness: '/mnt/w',
    });
  });

  it("the daemon: its config's file and witness, the environment first", () => {
    const config = { audit: '/var/pb/audit.db', auditWitness: '/mnt/w' };
    expect(auditTarget(HOME, config)).toEqual({ file: '/var/pb/audit.db', witness: '/mnt/w' });
    expect(auditTarget({ ...HOME, POSBRIDGE_AUDIT_WITNESS: '/mnt/e' }, config)).toEqual({
      file: '/var/pb/audit.db',
      witness: '/mnt/e',
    });
    expect(auditTarget(HOME, { auditWitness: '/mnt/w' })).toEqual({ file: DEFAULT, witness: '/mnt/w' });
  });

  it("leaves the config's witness out when POSBRIDGE_AUDIT points at another trail", () => {
    const config = { audit: '/var/pb/audit.db', auditWitness: '/mnt/w' };
    expect(auditTarget({ ...HOME, POSBRIDGE_AUDIT: '/tmp/other.db' }, config)).toEqual({
      file: '/tmp/other.db',
    });
    expect(auditTarget({ ...HOME, POSBRIDGE_AUDIT: '/var/pb/../pb/audit.db' }, config)).toEqual({
      file: '/var/pb/../pb/audit.db',
      witness: '/mnt/w',
    });
    expect(auditTarget({ ...HOME, POSBRIDGE_AUDIT: '/tmp/other.db' }, { auditWitness: '/mnt/w' })).toEqual({
      file: '/tmp/other.db',
    });
  });
});
