/**
 * The host reads every reply through the reply codecs (src/host/replies.ts, the ERR codec in
 * TerminalError, the exchange and the session): a line that does not fit its command's shape is
 * a BAD_REPLY naming the field, wherever the driver used to let it through.
 */
import { describe, expect, it } from 'vitest';
import { TerminalDriver } from '../../src/host/driver.js';
import { isTerminalError } from '../../src/host/errors.js';
import { Secret } from '../../src/host/secret.js';
import { Session } from '../../src/host/session.js';
import { encodeData, encodeErr, encodeLine, encodeOk } from '../../src/protocol/index.js';
import { type Received, silentLogger, Wire } from './daemon-wire.helper.js';

const ctx = (r: Received) => ({ id: r.request?.id, crc: true });

function open() {
  const wire = new Wire();
  const session = new Session(wire.transport, { logger: silentLogger, random: () => 0 });
  return { wire, driver: new TerminalDriver(session) };
}

describe('OK and DATA lines that do not fit their command', () => {
  it('GET: an OK without key= is a BAD_REPLY naming it', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [encodeOk(ctx(r), [['value', 'eth']])];
    await expect(driver.get('net.mode')).rejects.toMatchObject({
      code: 'BAD_REPLY',
      message: expect.stringContaining('OK without key='),
    });
  });

  it('INIT: a state that is neither factory nor initialized is a BAD_REPLY', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      encodeOk(ctx(r), [
        ['state', 'weird'],
        ['changed', 1],
      ]),
    ];
    await expect(driver.init({ merchant: '123456789012345', terminal: '12345678' })).rejects.toMatchObject({
      code: 'BAD_REPLY',
      message: expect.stringContaining('state=weird is not factory or initialized'),
    });
  });

  it('USER-LIST: an OK without count= is a BAD_REPLY', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      encodeData(ctx(r), [
        ['id', '01'],
        ['name', 'Ann'],
        ['perms', 'sale'],
        ['must_change', 0],
      ]),
      encodeOk(ctx(r)),
    ];
    await expect(driver.userList()).rejects.toMatchObject({
      code: 'BAD_REPLY',
      message: expect.stringContaining('OK without count='),
    });
  });

  it('STATUS: a malformed flag is named with what it should be', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      encodeLine({
        id: r.request?.id,
        words: ['OK'],
        fields: [
          ['state', 'factory'],
          ['login', 'none'],
          ['must_change', 'yes'],
          ['locked', 0],
          ['tamper', 0],
          ['factory_pw', 'none'],
        ],
        crc: true,
      }),
    ];
    await expect(driver.status()).rejects.toMatchObject({
      code: 'BAD_REPLY',
      message: expect.stringContaining('OK must_change=yes is not 0 or 1'),
    });
  });
});

describe('ERR lines are read by the ERR codec', () => {
  it('an ERR without code= is a BAD_REPLY, not a refusal with status 0', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [
      encodeLine({ id: r.request?.id, words: ['ERR'], fields: [['reason', 'locked']], crc: true }),
    ];
    const error = await driver.login('admin', new Secret('Abcdef-1')).catch((e: unknown) => e);
    expect(isTerminalError(error)).toBe(false);
    expect(error).toMatchObject({ code: 'BAD_REPLY', message: expect.stringContaining('without code=') });
    expect(wire.lines).toHaveLength(1);
  });

  it('an ERR whose remaining= does not read is a BAD_REPLY, never a 401 with an unknown count', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [encodeErr(ctx(r), 401, 'bad-credentials', [['remaining', 'x']])];
    await expect(driver.login('admin', new Secret('Abcdef-1'))).rejects.toMatchObject({
      code: 'BAD_REPLY',
      message: expect.stringContaining('remaining=x is not a decimal number'),
    });
    expect(wire.lines).toHaveLength(1);
  });

  it('a well-formed ERR is a TerminalError with its fields read', async () => {
    const { wire, driver } = open();
    wire.script = (r) => [encodeErr(ctx(r), 423, 'locked', [['retry_after', 120]])];
    await expect(driver.login('admin', new Secret('Abcdef-1'))).rejects.toMatchObject({
      code: 'TERMINAL_ERROR',
      status: 423,
      reason: 'locked',
      retryAfter: 120,
    });
  });
});
