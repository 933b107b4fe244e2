/**
 * The mock's recording API: what it read and what became of each line, what it executed with the
 * reply, what it wrote; secrets masked. Tests assert on these facts instead of on log text.
 */
import { describe, expect, it } from 'vitest';
import { MockConfigError, MockHarness } from '../../src/mock-device/index.js';

function recorded() {
  const h = new MockHarness({ record: true });
  return { h, host: h.connect('cable') };
}

describe('mock terminal: recording', () => {
  it('keeps each request it read with its verb and arguments, passwords masked', () => {
    const { h, host } = recorded();
    host.send('@7 LOGIN user=admin password=1234');
    expect(h.terminal.recording().requests).toEqual([
      {
        connection: 'cable',
        line: '@7 LOGIN user=admin password="***"',
        verb: 'LOGIN',
        args: { user: 'admin', password: '***' },
        outcome: 'executed',
      },
    ]);
  });

  it('keeps each command it executed with the reply it gave', () => {
    const { h, host } = recorded();
    host.send('LOGIN user=admin password=wrong-one');
    host.send('STATUS');
    expect(h.terminal.recording().executed.map(({ verb, reply }) => ({ verb, reply }))).toEqual([
      { verb: 'LOGIN', reply: 'ERR 401 bad-credentials' },
      { verb: 'STATUS', reply: 'OK' },
    ]);
  });

  it('masks the settlement account of a SET', () => {
    const { h, host } = recorded();
    host.send('SET key=settle.account value=DE89370400440532013000');
    const [request] = h.terminal.recording().requests;
    expect(request!.args).toEqual({ key: 'settle.account', value: '***' });
    expect(JSON.stringify(h.terminal.recording())).not.toContain('DE89370400440532013000');
  });

  it('keeps the lines it sent, in order', () => {
    const { h, host } = recorded();
    const lines = host.send('HELLO');
    expect(h.terminal.recording().sent).toEqual(lines.map((text) => ({ connection: 'cable', text })));
  });

  it('records a line refused before any command as rejected, with its code', () => {
    const { h, host } = recorded();
    host.send('@3 FROB');
    expect(h.terminal.recording().requests.map(({ outcome, code }) => ({ outcome, code }))).toEqual([
      { outcome: 'rejected', code: 404 },
    ]);
    expect(h.terminal.recording().executed).toEqual([]);
  });

  it('records a retransmission answered from the cache as replayed, not executed again', () => {
    const { h, host } = recorded();
    host.send('@9 STATUS');
    host.send('@9 STATUS');
    const { requests, executed } = h.terminal.recording();
    expect(requests.map((r) => r.outcome)).toEqual(['executed', 'replayed']);
    expect(executed).toHaveLength(1);
  });

  it('forgets what it recorded on clearRecording', () => {
    const { h, host } = recorded();
    host.send('HELLO');
    h.terminal.clearRecording();
    expect(h.terminal.recording()).toEqual({ requests: [], executed: [], sent: [] });
  });

  it('keeps nothing unless asked: recording() without record: true is an error naming the option', () => {
    const h = new MockHarness();
    h.connect().send('HELLO');
    expect(() => h.terminal.recording()).toThrow(MockConfigError);
    expect(() => h.terminal.recording()).toThrow(/record: true/);
  });
});
