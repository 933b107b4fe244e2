/**
 * Fuzzing the mock terminal's command handler (issue 6, item 2b): the protocol fuzzer's lines,
 * cut into random chunks, written into a MockTerminal over a memory link (unpaced, DIAG instant,
 * virtual clock moved now and then so reboots end, locks expire and logins go idle).
 *
 * What must hold, line by line (docs/protocol.md sections 3, 6.3, 7 and 10):
 * - writing never throws and the terminal never answers 500 or logs an internal error;
 * - every frame (every non-blank line) gets exactly one final line, OK or ERR, after its DATA
 *   lines; in this configuration nothing else is a no-reply case (a blank line is no frame; lost
 *   replies and pulled cables are faults, not exercised here);
 * - every line sent is CRLF-terminated, at most 512 bytes, printable ASCII, and parses with
 *   parseReply (CRC included);
 * - replies echo the request's ID (none for 413) and carry a CRC exactly when the request ended
 *   with a CRC token (never for 413); the answers of steps 1-5 are readRequest's code; events carry
 *   a CRC exactly when the connection's last line (413 aside) had one;
 * - the heap (after gc), the pending timers and the persistent state stay bounded.
 */
import { describe, expect, it } from 'vitest';
import {
  createMemoryLink,
  type MemoryHostEnd,
  type MockLogger,
  MockTerminal,
} from '../../src/mock-device/index.js';
import {
  type Frame,
  LineSplitter,
  MAX_LINE_BYTES,
  parseReply,
  readRequest,
  VirtualClock,
} from '../../src/protocol/index.js';
import { PRINTABLE } from '../support/constants.js';
import {
  chunks,
  concat,
  Findings,
  FUZZ_LINES,
  FUZZ_SEED,
  HeapProbe,
  LineFactory,
  latin1,
  MiB,
  mib,
  Rng,
  terminator,
  timeoutFor,
} from './fuzz-kit.js';

const BATCH = 100;
const HEAP_BOUND = 24 * MiB;
/** Lines written on one connection before the cable is pulled and plugged in again. */
const LINES_PER_CONNECTION = 5000;
/** What the admin password may be (the fuzz lines set these too): factory first. */
const ADMIN_PASSWORDS = ['1234', 'K7m.Vq29x', 'Adm1n-2026', 'Op3rator!x'];
const LOCK_SECONDS = 86_401;

interface Expectation {
  id: string | undefined;
  crc: boolean;
  /** readRequest's rejection code (steps 1-5), if the line does not get past them. */
  code: number | undefined;
  /** A 413 leaves the event CRC mode as it was (D5). */
  setsCrcMode: boolean;
  text: string;
}

function expectationFor(frame: Frame): Expectation {
  const read = readRequest(frame);
  const text = frame.kind === 'too-long' ? `(a line of ${frame.length} bytes)` : frame.text;
  if (read.ok)
    return { id: read.request.id, crc: read.request.crc, code: undefined, setsCrcMode: true, text };
  const { rejection } = read;
  return {
    id: rejection.id,
    crc: rejection.crc,
    code: rejection.code,
    setsCrcMode: rejection.code !== 413,
    text,
  };
}

describe(`fuzz: the mock terminal (${FUZZ_LINES} lines, seed ${FUZZ_SEED})`, () => {
  it(
    'answers every line with one well-formed final reply, never fails inside, stays bounded',
    () => {
      const rng = new Rng(FUZZ_SEED ^ 0x5eed);
      const factory = new LineFactory(rng);
      const findings = new Findings();
      const heap = new HeapProbe();
      const clock = new VirtualClock();
      const internal: string[] = [];
      const noop = (): void => {};
      const logger: MockLogger = {
        debug: noop,
        info: noop,
        warn: noop,
        error: (fields, message) => {
          const { err } = fields as { err?: unknown };
          internal.push(`${message}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        },
      };
      const terminal = new MockTerminal({
        baud: 0,
        diagTimeScale: 0,
        clock,
        timers: clock,
        logger,
        seed: FUZZ_SEED,
      });
      const tally = {
        frames: 0,
        finals: 0,
        data: 0,
        events: 0,
        bytesOut: 0,
        connections: 0,
        codes: new Map<string, number>(),
      };

      let host!: MemoryHostEnd;
      let splitter!: LineSplitter;
      let crcMode = false;
      let onConnection = 0;
      const connect = (): void => {
        host?.close();
        const memory = createMemoryLink(`fuzz ${++tally.connections}`);
        terminal.attach(memory.link);
        host = memory.host;
        splitter = new LineSplitter();
        crcMode = false;
        onConnection = 0;
      };
      connect();

      /** Reads what the terminal sent and checks it against the frames it had to answer. */
      const collect = (pending: Expectation[], input: Uint8Array): void =>
        collectText(host.read(), pending, input);
      const collectText = (out: string, pending: Expectation[], input: Uint8Array): void => {
        tally.bytesOut += out.length;
        if (out === '') return;
        const pieces = out.split('\r\n');
        if (pieces.pop() !== '') findings.add('output does not end with CRLF', out);
        for (const line of pieces) {
          if (line.includes('\r') || line.includes('\n')) findings.add('a bare CR or LF in the output', line);
          if (line.length > MAX_LINE_BYTES) findings.add(`a reply line of ${line.length} bytes`, line);
          if (!PRINTABLE.test(line)) findings.add('a reply line with a byte outside 0x20-0x7E', line);
          const parsed = parseReply(line);
          if (!parsed.ok) {
            findings.add(`a reply line that parseReply rejects (${parsed.problem})`, line);
            continue;
          }
          const { reply } = parsed;
          if (reply.kind === 'evt') {
            tally.events++;
            if (reply.crc !== crcMode) findings.add(`an event ${reply.crc ? 'with' : 'without'} CRC`, line);
            continue;
          }
          const expected = pending[0];
          if (!expected) {
            findings.add('a reply line with no line to answer', line);
            continue;
          }
          if (reply.id !== expected.id || reply.crc !== expected.crc) {
            findings.add(
              `reply ${line} to ${JSON.stringify(expected.text)}: expected ID ${expected.id ?? 'none'}, CRC ${expected.crc}`,
              input,
            );
          }
          if (reply.kind === 'data') {
            tally.data++;
            continue;
          }
          pending.shift();
          tally.finals++;
          const code = reply.kind === 'ok' ? 'OK' : (reply.fields.code ?? '?');
          tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
          if (code === '500') findings.add(`500 to ${JSON.stringify(expected.text)}`, line);
          if (expected.code !== undefined && code !== String(expected.code))
            findings.add(
              `${line} to ${JSON.stringify(expected.text)}: readRequest says ${expected.code}`,
              input,
            );
          if (expected.setsCrcMode) crcMode = expected.crc;
        }
      };

      /** One line written whole, checked like the rest; returns the lines it got. */
      const send = (line: string): string[] => {
        const bytes = latin1(`${line}\r\n`);
        const pending = splitter.push(bytes).map(expectationFor);
        tally.frames += pending.length;
        host.write(bytes);
        const before = host.read();
        // Put the text back for collect() to check, and keep a copy for the caller.
        const replies = before.split('\r\n').filter((l) => l !== '');
        collectText(before, pending, bytes);
        if (pending.length > 0) findings.add(`${line} got no final reply`, bytes);
        return replies;
      };
      const drive = (): void => {
        if (send('STATUS').some((l) => l.includes(' locked=1'))) clock.advance(LOCK_SECONDS * 1000);
        let logged: string | undefined;
        for (const password of ADMIN_PASSWORDS) {
          const reply = send(`LOGIN user=admin password=${password}`);
          if (reply.some((l) => l.startsWith('OK'))) {
            logged = password;
            if (reply.some((l) => l.includes('must_change=1'))) {
              const next = rng.pick(ADMIN_PASSWORDS.filter((p) => p !== password && p !== '1234'));
              send(`PASSWD old=${password} new=${next}`);
            }
            break;
          }
        }
        if (logged !== undefined && rng.chance(0.7)) send('SET key=lockout.max value=0');
      };

      const started = performance.now();
      let lines = 0;
      let nextSample = 0;
      while (lines < FUZZ_LINES) {
        const parts: Uint8Array[] = [];
        const count = Math.min(BATCH, FUZZ_LINES - lines);
        for (let i = 0; i < count; i++) parts.push(factory.next(), terminator(rng));
        parts.push(latin1('\r\n'));
        lines += count;
        onConnection += count;

        for (const chunk of chunks(rng, concat(...parts))) {
          const pending = splitter.push(chunk).map(expectationFor);
          tally.frames += pending.length;
          try {
            host.write(chunk);
          } catch (error) {
            findings.add(`writing to the terminal threw ${String(error)}`, chunk);
          }
          collect(pending, chunk);
          if (pending.length > 0) {
            findings.add(
              `${pending.length} line(s) got no final reply, first ${JSON.stringify(pending[0]!.text)}`,
              chunk,
            );
          }
          for (const problem of internal.splice(0)) findings.add(`internal error: ${problem}`, chunk);
          // A little time passes between reads (a reboot's 500 ms end after some chunks).
          clock.advance(rng.int(40));
          collect([], latin1('(time passes)'));
        }

        // Now and then, log in as the admin the way a host would, so the fuzz reaches the
        // admin-only commands (and, mostly, switch lockout off so random LOGINs do not lock it).
        if (rng.chance(0.5)) drive();

        // Time passes: a reboot ends (EVT boot), a lock expires, a login goes idle.
        if (rng.chance(0.3)) {
          clock.advance(rng.chance(0.1) ? rng.range(300_000, 400_000) : rng.range(0, 1500));
          collect([], latin1('(time passes)'));
        }
        if (clock.pending > 8) findings.add(`${clock.pending} timers pending`, '');
        if (onConnection >= LINES_PER_CONNECTION) connect();

        if (lines >= nextSample) {
          heap.sample();
          const state = JSON.stringify(terminal.snapshot()).length;
          if (state > 64 * 1024) findings.add(`persistent state of ${state} bytes`, '');
          nextSample = lines + Math.max(2000, Math.floor(FUZZ_LINES / 20));
        } else heap.observe();
      }
      host.close();
      terminal.close();
      heap.sample();
      const seconds = (performance.now() - started) / 1000;
      const codes = [...tally.codes].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => `${c}:${n}`);
      console.log(
        `fuzz mock: ${lines} lines, ${tally.frames} frames -> ${tally.finals} finals, ${tally.data} DATA, ` +
          `${tally.events} EVT, ${(tally.bytesOut / MiB).toFixed(1)} MiB out, ${tally.connections} connections, ` +
          `in ${seconds.toFixed(1)} s = ${Math.round(lines / seconds)} lines/s; finals ${codes.join(' ')}; ` +
          `heap after gc: baseline ${mib(heap.baseline)}, peak ${mib(heap.peakAfterGc)}, end ${mib(heap.last)}; ` +
          `peak heapUsed ${mib(heap.peakLive)}, peak RSS ${mib(heap.peakRss)} (seed ${FUZZ_SEED})`,
      );

      expect(findings.count, findings.report(FUZZ_SEED, FUZZ_LINES)).toBe(0);
      expect(tally.finals).toBe(tally.frames);
      expect(heap.growth, `heap after gc grew ${mib(heap.growth)}`).toBeLessThan(HEAP_BOUND);
      // The run went past the framing into the commands.
      expect(tally.codes.get('OK') ?? 0).toBeGreaterThan(lines / 200);
    },
    timeoutFor(FUZZ_LINES, 300),
  );
});
