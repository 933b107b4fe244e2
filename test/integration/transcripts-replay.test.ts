/**
 * Golden transcripts (test/fixtures/transcripts, docs/evidence.md "Transcripts"): each one's host
 * side replayed against a fresh mock terminal (its `setup:` transcripts first, its `mock:` options,
 * secrets put back from the header) must make the terminal send the recorded lines, line for line,
 * byte for byte (timestamps aside). Plus the replay stand-in of `posbridge mock --replay`
 * (ReplayTerminal) on memory links: re-IDing, the CRC mirror, lost replies, mismatches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryLink, MockTerminal } from '../../src/mock-device/index.js';
import {
  hostLines,
  matchKey,
  parseTrace,
  playHostSide,
  REPLAY_MISMATCH_MSG,
  ReplayTerminal,
  readdress,
  readTranscript,
  retimeUtc,
  type Transcript,
  terminalLines,
  tracedForm,
} from '../../src/mock-device/replay/index.js';
import { appendCrc, crc16, formatCrc, parseReply, splitCrc, VirtualClock } from '../../src/protocol/index.js';

const DIR = resolve(import.meta.dirname, '../fixtures/transcripts');
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.trace'))
  .map((f) => f.slice(0, -'.trace'.length))
  .sort();

function load(name: string): Transcript {
  return readTranscript(name, readFileSync(join(DIR, `${name}.trace`), 'utf8'));
}

/** A fresh terminal as the transcripts were made against: unpaced, DIAG instant, virtual clock. */
function freshTerminal(transcript: Transcript): { terminal: MockTerminal; clock: VirtualClock } {
  const clock = new VirtualClock();
  const terminal = new MockTerminal({
    baud: 0,
    diagTimeScale: 0,
    clock,
    timers: clock,
    ...transcript.mock,
  });
  return { terminal, clock };
}

describe('golden transcripts', () => {
  it('cover the sessions issue 6 asks for', () => {
    expect(NAMES).toEqual(
      expect.arrayContaining([
        'provision-factory',
        'provision-rerun',
        'wrong-password',
        'lockout',
        'dropped-reply',
        'reboot',
        'diag-printer',
      ]),
    );
  });

  it.each(NAMES)('%s: has a header saying what it shows, how it was made and how to replay it', (name) => {
    const transcript = load(name);
    const keys = new Set(transcript.trace.fields.map((f) => f.key));
    for (const key of ['transcript', 'shows', 'made', 'command', 'setup', 'result'])
      expect(keys).toContain(key);
    expect(transcript.trace.fields[0]).toEqual({ key: 'transcript', value: name });
    for (const setup of transcript.setup) expect(NAMES).toContain(setup);
    // Every entry is a timestamped wire line of printable ASCII; host lines hold no secret in clear.
    for (const entry of transcript.trace.entries) {
      expect(entry.at, `line ${entry.lineNo}`).toBeTypeOf('number');
      expect(entry.text).toMatch(/^[\x20-\x7e]+$/);
      if (entry.direction === '>') expect(tracedForm(entry.text)).toBe(entry.text);
    }
  });

  it.each(NAMES)('%s: the secrets put back give lines whose masked form is the traced one', (name) => {
    const transcript = load(name);
    const traced = transcript.trace.entries.filter((e) => e.direction === '>').map((e) => e.text);
    const lines = hostLines(transcript);
    expect(lines.map(tracedForm)).toEqual(traced);
    for (const line of lines) {
      expect(line).not.toContain('***');
      const crc = splitCrc(line);
      if (crc) expect(crc16(crc.body)).toBe(crc.crc);
    }
  });

  it.each(NAMES)('%s: a fresh mock answers its host side line for line', (name) => {
    const transcript = load(name);
    const { terminal, clock } = freshTerminal(transcript);
    for (const setup of transcript.setup) playHostSide(load(setup), terminal, clock);
    const got = playHostSide(transcript, terminal, clock);
    terminal.close();
    expect(got).toEqual(terminalLines(transcript));
  });
});

describe('replay matching', () => {
  it('compares host lines without ID, CRC, masked secrets and the TIME value', () => {
    const traced = '@9 TIME utc=2026-11-27T01:08:04Z *5B0E';
    expect(matchKey(tracedForm(appendCrc('@4711 TIME utc=2030-01-01T00:00:00Z')))).toBe(matchKey(traced));
    expect(matchKey(tracedForm(appendCrc('@12 LOGIN user=admin password=Secr3t-pw')))).toBe(
      matchKey('@4 LOGIN user=admin password="***" *71EE'),
    );
    expect(matchKey('@4 LOGIN user=01 password="***" *1234')).not.toBe(
      matchKey('@4 LOGIN user=admin password="***"'),
    );
    expect(matchKey('STATUS')).toBe(matchKey('@3 STATUS *844E'));
  });

  it('re-IDs a recorded line, mirrors the CRC, never puts one on a 413, keeps a damaged CRC damaged', () => {
    const map = (id: string) => (id === '6' ? '41' : undefined);
    expect(readdress('@6 OK *698F', { mapId: map, crc: true })).toBe(appendCrc('@41 OK'));
    expect(readdress('@6 OK *698F', { mapId: map, crc: false })).toBe('@41 OK');
    expect(readdress('@7 OK', { mapId: map, crc: true })).toBe(appendCrc('@7 OK'));
    expect(readdress('EVT boot sn=PBM0000001', { mapId: map, crc: true })).toBe(
      appendCrc('EVT boot sn=PBM0000001'),
    );
    expect(readdress('ERR code=413 reason=line-too-long', { mapId: map, crc: true })).toBe(
      'ERR code=413 reason=line-too-long',
    );
    const damaged = `@6 OK *${formatCrc(crc16('@6 OK') ^ 0x0101)}`;
    const sent = readdress(damaged, { mapId: map, crc: true });
    expect(sent.startsWith('@41 OK *')).toBe(true);
    expect(parseReply(sent).ok).toBe(false);
    expect(splitCrc(sent)!.crc).toBe(crc16('@41 OK') ^ 0x0101);
    expect(readdress('[600 bytes without a line end, discarded]', { mapId: map, crc: true })).toHaveLength(
      600,
    );
  });
});

describe('ReplayTerminal: a trace played back to a host', () => {
  const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();
  const TRACE = [
    '# transcript: sample',
    `${at(0)} > ${appendCrc('@1 HELLO proto=1')}`,
    `${at(10)} < ${appendCrc('@1 OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory')}`,
    `${at(20)} > ${appendCrc('@2 LOGIN user=admin password="***"')}`,
    `${at(3020)} > ${appendCrc('@2 LOGIN user=admin password="***"')}`,
    `${at(3021)} < ${appendCrc('@2 OK user=admin must_change=1')}`,
    `${at(3021)} < EVT noise seq=1`,
    `${at(3100)} > STATUS`,
    `${at(3101)} < OK state=factory login=admin`,
  ].join('\n');

  function setup() {
    const warnings: Array<{ fields: object; message: string }> = [];
    const noop = (): void => {};
    const replay = new ReplayTerminal(parseTrace(TRACE).entries, {
      logger: {
        debug: noop,
        info: noop,
        error: noop,
        warn: (fields, message) => warnings.push({ fields, message }),
      },
    });
    const { link, host } = createMemoryLink('replay test');
    replay.attach(link);
    const send = (line: string) => {
      host.write(`${line}\r\n`);
      return host.readLines();
    };
    return { replay, send, warnings };
  }

  it('answers with the recorded lines, re-IDed to the live IDs, CRCs by the mirror rule', () => {
    const { replay, send, warnings } = setup();
    expect(send(appendCrc('@500 HELLO proto=1'))).toEqual([
      appendCrc('@500 OK proto=1 model=PB-MOCK sn=PBM0000001 fw=1.0.0 state=factory'),
    ]);
    // A lost reply: nothing, until the retransmission the trace recorded.
    const login = appendCrc('@501 LOGIN user=admin password=Secr3t-pw');
    expect(send(login)).toEqual([]);
    expect(send(login)).toEqual([
      appendCrc('@501 OK user=admin must_change=1'),
      appendCrc('EVT noise seq=1'),
    ]);
    // A retransmission the trace does not have gets the same answer again.
    expect(send(login)).toEqual([
      appendCrc('@501 OK user=admin must_change=1'),
      appendCrc('EVT noise seq=1'),
    ]);
    // No ID, no CRC: neither in the reply.
    expect(send('STATUS')).toEqual(['OK state=factory login=admin']);
    expect(replay.progress).toMatchObject({ hostLines: 4, matched: 4, mismatches: 0, complete: true });
    expect(warnings).toEqual([]);
  });

  it('answers an unexpected line with 500 and logs what it expected and what it got', () => {
    const { replay, send, warnings } = setup();
    expect(send(appendCrc('@7 STATUS'))).toEqual([
      appendCrc(`@7 ERR code=500 reason=internal msg="${REPLAY_MISMATCH_MSG}"`),
    ]);
    expect(send('HELLO')).toEqual([`ERR code=500 reason=internal msg="${REPLAY_MISMATCH_MSG}"`]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.fields).toMatchObject({
      expected: '@1 HELLO proto=1 *4684',
      got: '@7 STATUS *8B23',
      traceLine: 2,
    });
    expect(warnings[0]!.message).toContain('expected "@1 HELLO proto=1 *4684", got "@7 STATUS *8B23"');
    // The script did not move: the right line still plays.
    expect(send(appendCrc('@8 HELLO proto=1'))).toHaveLength(1);
    expect(replay.progress).toMatchObject({
      matched: 1,
      mismatches: 2,
      complete: false,
      next: appendCrc('@2 LOGIN user=admin password="***"'),
    });
  });

  it('a host that sends a secret in clear is compared masked, and is never logged in clear', () => {
    const { send, warnings } = setup();
    send(appendCrc('@1 HELLO proto=1'));
    expect(send(appendCrc('@2 LOGIN user=01 password=Secr3t-pw'))[0]).toContain('code=500');
    expect(JSON.stringify(warnings)).not.toContain('Secr3t-pw');
  });

  it('after the end of the trace every line is unexpected', () => {
    const { send } = setup();
    send(appendCrc('@1 HELLO proto=1'));
    const login = appendCrc('@2 LOGIN user=admin password=x');
    send(login);
    send(login);
    send('STATUS');
    expect(send('STATUS')).toEqual([`ERR code=500 reason=internal msg="${REPLAY_MISMATCH_MSG}"`]);
  });

  it('plays a golden transcript to a mock-side host that sends the same lines with other IDs', () => {
    const transcript = load('dropped-reply');
    const now = Date.UTC(2031, 5, 1);
    const replay = new ReplayTerminal(transcript.trace.entries, { clock: { now: () => now } });
    const { link, host } = createMemoryLink('replay golden');
    replay.attach(link);
    const offset = 90_000;
    const received: string[] = [];
    for (const line of hostLines(transcript)) {
      const live = readdress(line, { mapId: (id) => String(Number(id) + offset), crc: true });
      host.write(`${live}\r\n`);
      received.push(...host.readLines());
    }
    const expected = transcript.trace.entries
      .filter((e) => e.direction === '<')
      .map((e) =>
        readdress(e.text, {
          mapId: (id) => String(Number(id) + offset),
          crc: true,
          rewrite: (text) => retimeUtc(text, e.at!, now),
        }),
      );
    expect(received).toEqual(expected);
    // The TIME replies are as far from `now` as they were from the recording host's clock: the
    // terminal's fixed 2025 clock stays as far behind, the clock once set is in sync with `now`.
    const utc = received.flatMap((l) => / OK utc=(\S+) /.exec(l)?.[1] ?? []);
    expect(utc).toHaveLength(2);
    expect(Date.parse(utc[0]!)).toBeLessThan(now - 365 * 86_400_000);
    expect(Math.abs(Date.parse(utc[1]!) - now)).toBeLessThanOrEqual(1000);
    expect(replay.progress.complete).toBe(true);
  });
});
