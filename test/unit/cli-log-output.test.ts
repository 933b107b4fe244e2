/** log-output.ts: the format by stderr, the journal's stream, priorities, keys, stacks. */
import { describe, expect, it } from 'vitest';
import {
  errSerializer,
  logFormatFor,
  stderrIsJournal,
  syslogPriority,
  withoutDuplicateKeys,
} from '../../src/cli/log-output.js';
import { PosbridgeError } from '../../src/host/errors.js';

describe('log output', () => {
  it('--log-format wins; otherwise pretty on a terminal and JSON elsewhere', () => {
    expect(logFormatFor(undefined, { isTTY: true })).toBe('pretty');
    expect(logFormatFor(undefined, {})).toBe('json');
    expect(logFormatFor('json', { isTTY: true })).toBe('json');
    expect(logFormatFor('pretty', {})).toBe('pretty');
  });

  it('stderr is the journal only when JOURNAL_STREAM names its dev:inode', () => {
    const stat = () => ({ dev: 64769, ino: 123456 });
    expect(stderrIsJournal({ JOURNAL_STREAM: '64769:123456' }, stat)).toBe(true);
    expect(stderrIsJournal({ JOURNAL_STREAM: '64769:999' }, stat)).toBe(false);
    expect(stderrIsJournal({}, stat)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: 'junk' }, stat)).toBe(false);
    expect(
      stderrIsJournal({ JOURNAL_STREAM: '1:2' }, () => {
        throw new Error('EBADF');
      }),
    ).toBe(false);
  });

  it('pino levels map to syslog priorities (journalctl -p)', () => {
    expect([10, 20, 30, 40, 50, 60].map(syslogPriority)).toEqual([7, 7, 6, 4, 3, 2]);
  });

  it('a key given twice is written once, the last value', () => {
    const { text, level } = withoutDuplicateKeys('{"level":30,"pid":1,"socket":"s","pid":2,"msg":"m"}\n');
    expect(text).toBe('{"level":30,"pid":2,"socket":"s","msg":"m"}\n');
    expect(level).toBe(30);
  });

  it('an expected error has no stack unless the level is debug or trace; a bug keeps it', () => {
    const expected = new PosbridgeError('PORT_BUSY', 'port busy: /dev/ttyUSB0', { hint: 'close it' });
    expect(errSerializer(false)(expected)).not.toHaveProperty('stack');
    expect(errSerializer(false)(expected)).toMatchObject({
      message: 'port busy: /dev/ttyUSB0',
      code: 'PORT_BUSY',
    });
    expect(errSerializer(true)(expected)).toHaveProperty('stack');
    expect(errSerializer(false)(new TypeError('x is undefined'))).toHaveProperty('stack');
  });
});
