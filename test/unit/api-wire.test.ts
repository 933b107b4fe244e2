/**
 * The local API's wire format on its own: request validation (each problem names its field,
 * never echoes a secret; secrets come out as Secret), errors both ways (a TerminalError keeps
 * what its exit code depends on), the SSE parser against chunking, and where the socket lives.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { defaultSocketPath, resolveSocketPath } from '../../src/daemon/api/socket.js';
import { SseParser } from '../../src/daemon/api/sse.js';
import {
  carriedToError,
  describeIssues,
  errorFromWire,
  errorToCarried,
  errorToWire,
  HTTP_STATUS_BY_CODE,
  isErrorCode,
  requestBody,
} from '../../src/daemon/api/wire.js';
import { PosbridgeError, TerminalError } from '../../src/host/errors.js';
import type { RequestOf } from '../../src/host/operations/index.js';
import { Secret } from '../../src/host/secret.js';

// Each route's body: its operation's request (src/host/operations) and the API's own fields.
const provisionBody = requestBody('provision') as unknown as z.ZodType<
  RequestOf<'provision'> & { recordGenerated: boolean }
>;
const diagBody = requestBody('diag');
const passwdBody = requestBody('passwd');
const operatorBody = requestBody('operator');

const request = {
  port: 'mock://a',
  merchant: '822100052110023',
  terminal: '10023456',
  adminPassword: 'Zq8-Adm1n-Secret!',
  technician: 'tech',
  station: 'bench',
};

function problems(result: { success: boolean; error?: unknown }): string {
  expect(result.success).toBe(false);
  return describeIssues(result.error as Parameters<typeof describeIssues>[0]);
}

describe('request bodies', () => {
  it('a valid provisioning: secrets wrapped at once, defaults filled', () => {
    const body = provisionBody.parse({ request, operatorPasswords: { '03': 'Sup3r-Visor-88' } });
    expect(body.request.adminPassword).toBeInstanceOf(Secret);
    expect(body.request.adminPassword?.reveal()).toBe(request.adminPassword);
    expect(JSON.stringify(body)).not.toContain(request.adminPassword);
    expect(JSON.stringify(body)).not.toContain('Sup3r-Visor-88');
    expect(body.operatorPasswords?.['03']).toBeInstanceOf(Secret);
    expect(body.recordGenerated).toBe(true);
    expect(body.request.profile).toMatchObject({
      operators: [],
      factoryOperator: 'replace-password',
      setClock: true,
    });
  });

  it('each problem names its field', () => {
    const { technician: _t, ...noTechnician } = request;
    expect(problems(provisionBody.safeParse({ request: noTechnician }))).toBe(
      'request.technician: is required',
    );
    expect(problems(provisionBody.safeParse({ request: { ...request, terminal: 12345678 } }))).toBe(
      'request.terminal: must be 8 digits',
    );
    expect(problems(provisionBody.safeParse({ request: { ...request, name: '' } }))).toBe(
      'request.name: must be 1 to 40 bytes of UTF-8 text',
    );
    expect(problems(provisionBody.safeParse({ request, operatorPasswords: { '7': 'x' } }))).toMatch(
      /^operatorPasswords\.7: the key must be two digits 01-99$/,
    );
    expect(
      problems(provisionBody.safeParse({ request: { ...request, profile: { operators: [{ id: '02' }] } } })),
    ).toMatch(/^request\.profile\.operators\.0\.name: .*; request\.profile\.operators\.0\.perms: /);
    expect(problems(provisionBody.safeParse({ request, extra: 1 }))).toBe('(body): unknown field (extra)');
    expect(problems(diagBody.safeParse({ port: '' }))).toBe('port: must not be empty');
    expect(
      problems(
        passwdBody.safeParse({ port: 'p', user: 'root', adminPassword: 'a', newPassword: 'Val1d-Pass-9' }),
      ),
    ).toBe('user: must be admin or two digits 01-99');
    expect(problems(operatorBody.safeParse({ port: 'p', operation: { action: 'set', id: '02' } }))).toBe(
      'operation: give name, perms or both',
    );
    expect(
      problems(
        operatorBody.safeParse({
          port: 'p',
          operation: {
            action: 'add',
            id: '02',
            name: 'A',
            perms: ['sale', 'sale'],
            password: 'Val1d-Pass-9',
          },
        }),
      ),
    ).toBe('operation.perms: must not repeat a permission');
  });

  it('a weak password is named by its field and its problem, never by its value', () => {
    for (const [password, problem] of [
      ['1234', 'must be 6 to 32 characters'],
      ['123456', 'is a well-known POS default'],
      ['zzzzzzzz', 'is one character repeated'],
      ['abcdefgh', 'is a straight run'],
      ['tab\there1', 'must use printable ASCII'],
    ] as const) {
      const message = problems(provisionBody.safeParse({ request: { ...request, adminPassword: password } }));
      expect(message).toMatch(new RegExp(`^request\\.adminPassword: ${problem.replace(/[()]/g, '\\$&')}`));
      expect(message).not.toContain(password);
    }
    expect(
      problems(
        passwdBody.safeParse({ port: 'p', adminPassword: 'Same-Pass-77', newPassword: 'Same-Pass-77' }),
      ),
    ).toBe('newPassword: is the same as the old password');
    // An operator's new password may equal the admin's current one: not the same account.
    expect(
      passwdBody.safeParse({
        port: 'p',
        user: '02',
        adminPassword: 'Same-Pass-77',
        newPassword: 'Same-Pass-77',
      }).success,
    ).toBe(true);
    // A current password is not judged: it is whatever the terminal holds.
    expect(diagBody.safeParse({ port: 'p', adminPassword: '1234' }).success).toBe(true);
  });

  it('diag checks are the known ones', () => {
    expect(diagBody.parse({ port: 'p', checks: ['printer', 'nfc'] }).checks).toEqual(['printer', 'nfc']);
    expect(problems(diagBody.safeParse({ port: 'p', checks: [] }))).toBe(
      'checks: must name at least one check',
    );
  });
});

describe('errors both ways', () => {
  it('a TerminalError comes back as a TerminalError, with its exit code', () => {
    const cases: Array<Record<string, string>> = [
      { code: '423', reason: 'locked', retry_after: '300' },
      { code: '401', reason: 'bad-credentials', remaining: '0' },
      { code: '503', reason: 'not-ready' },
      { code: '422', reason: 'unknown-user' },
    ];
    for (const fields of cases) {
      const original = new TerminalError({ verb: 'LOGIN', id: '12', fields });
      const wire = JSON.parse(JSON.stringify({ error: errorToWire(original) })).error;
      const back = errorFromWire(wire);
      expect(back).toBeInstanceOf(TerminalError);
      expect(back.toJSON()).toEqual(original.toJSON());
      expect(exitCodeFor(back)).toBe(exitCodeFor(original));
    }
  });

  it('a PosbridgeError keeps code, message, hint and details; an unknown code is INTERNAL', () => {
    const original = new PosbridgeError('PORT_BUSY', '/dev/ttyUSB0 is busy', {
      hint: 'close the other program',
      details: { port: '/dev/ttyUSB0', holders: [{ pid: 42, command: 'minicom' }] },
      cause: new Error('EBUSY'),
    });
    const wire = errorToWire(original);
    expect(wire).not.toHaveProperty('stack');
    expect(wire).not.toHaveProperty('cause');
    const back = errorFromWire(JSON.parse(JSON.stringify(wire)));
    expect(back.toJSON()).toEqual(original.toJSON());
    expect(exitCodeFor(back)).toBe(3);
    expect(errorFromWire({ code: 'FLUX_CAPACITOR', message: 'm' }).code).toBe('INTERNAL');
  });

  it('an error a client carries comes back as the same kind', () => {
    const known = carriedToError(errorToCarried(new PosbridgeError('USAGE', 'no OP03', { hint: 'set it' })));
    expect(known).toBeInstanceOf(PosbridgeError);
    expect((known as PosbridgeError).toJSON()).toEqual({ code: 'USAGE', message: 'no OP03', hint: 'set it' });
    const plain = carriedToError(errorToCarried(new Error('disk on fire')));
    expect(plain).not.toBeInstanceOf(PosbridgeError);
    expect(plain.message).toBe('disk on fire');
  });

  it('every error code has an HTTP status', () => {
    expect(isErrorCode('TIMEOUT')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(HTTP_STATUS_BY_CODE.USAGE).toBe(400);
    expect(HTTP_STATUS_BY_CODE.INTERNAL).toBe(500);
    for (const status of Object.values(HTTP_STATUS_BY_CODE)) expect(status).toBeGreaterThanOrEqual(400);
  });
});

describe('SseParser', () => {
  const stream =
    ': posbridge events\n\nid: 1\nevent: step\ndata: {"n":1}\n\n: heartbeat\n\nid: 2\r\nevent: result\r\ndata: {"a":\r\ndata: 2}\r\n\r\ndata: plain\n\n';

  it('splits events, skips comments, joins multi-line data, whatever the chunking', () => {
    const expected = [
      { event: 'step', data: '{"n":1}', id: '1' },
      { event: 'result', data: '{"a":\n2}', id: '2' },
      { event: 'message', data: 'plain' },
    ];
    for (const size of [1, 2, 3, 7, stream.length]) {
      const got: unknown[] = [];
      const parser = new SseParser((e) => got.push(e));
      for (let i = 0; i < stream.length; i += size) parser.push(stream.slice(i, i + size));
      expect(got, `chunks of ${size}`).toEqual(expected);
    }
  });
});

describe('the socket path', () => {
  it('--socket, then POSBRIDGE_SOCKET, then $XDG_RUNTIME_DIR, then /tmp/posbridge-$UID', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1000', POSBRIDGE_SOCKET: '/srv/pb.sock' };
    expect(resolveSocketPath(env, '/x/flag.sock', 1000)).toEqual({ path: '/x/flag.sock', source: 'flag' });
    expect(resolveSocketPath(env, undefined, 1000)).toEqual({ path: '/srv/pb.sock', source: 'env' });
    expect(resolveSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, undefined, 1000)).toEqual({
      path: '/run/user/1000/posbridge/daemon.sock',
      source: 'default',
    });
    expect(defaultSocketPath({}, 1000)).toBe('/tmp/posbridge-1000/daemon.sock');
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: 'relative/dir' }, 1000)).toBe(
      '/tmp/posbridge-1000/daemon.sock',
    );
    expect(resolveSocketPath({ POSBRIDGE_SOCKET: '' }, '', 7).path).toBe('/tmp/posbridge-7/daemon.sock');
  });
});
