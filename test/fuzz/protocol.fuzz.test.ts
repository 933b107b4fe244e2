/**
 * Fuzzing src/protocol (issue 6, item 2a): generated and mutated lines, cut into random chunks,
 * through LineSplitter -> readRequest, and every frame's text through parseReply and maskLine.
 * Nothing may escape but the typed results: no exception, frames exactly as the reference splitter
 * of docs/protocol.md section 3 says, rejections only 400/404/413/460 with the fields section 10
 * allows (and whose ERR line is itself a valid reply), replies typed; and the heap stays bounded.
 *
 *   npx vitest run test/fuzz                        # 20,000 lines (the suite)
 *   FUZZ_LINES=1000000 npx vitest run test/fuzz     # the long run (docs/evidence.md)
 *   FUZZ_SEED=7 ...                                 # another seed (a failure prints its seed)
 */
import { describe, expect, it } from 'vitest';
import {
  codeOfSlug,
  encodeErr,
  encodeValue,
  type Frame,
  LineSplitter,
  MAX_ECHOED_KEY,
  MAX_FREE_TEXT,
  MAX_LINE_BYTES,
  maskLine,
  parseReply,
  type RequestResult,
  readRequest,
  splitCrc,
  VERBS,
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
  ReferenceSplitter,
  Rng,
  terminator,
  timeoutFor,
} from './fuzz-kit.js';

const ID = /^[0-9]{1,8}$/;
const WORD = /^[A-Za-z][A-Za-z0-9-]*$/;
const REJECTION_CODES = new Set([400, 404, 413, 460]);
const REPLY_KINDS = new Set(['data', 'ok', 'err', 'evt']);
/** Lines per batch: generated, joined with terminators, then chunked. */
const BATCH = 500;
/** The heap after gc may not rise more than this above its level after warm-up. */
const HEAP_BOUND = 24 * MiB;

describe(`fuzz: src/protocol (${FUZZ_LINES} lines, seed ${FUZZ_SEED})`, () => {
  it(
    'only typed results come out of LineSplitter, readRequest, parseReply and maskLine; the heap stays bounded',
    () => {
      const rng = new Rng(FUZZ_SEED);
      const factory = new LineFactory(rng);
      const splitter = new LineSplitter();
      const reference = new ReferenceSplitter();
      const findings = new Findings();
      const heap = new HeapProbe();
      const tally = { frames: 0, requests: 0, bytes: 0, rejections: new Map<number, number>(), replies: 0 };
      const started = performance.now();
      let lines = 0;
      let nextSample = 0;

      while (lines < FUZZ_LINES) {
        const parts: Uint8Array[] = [];
        const count = Math.min(BATCH, FUZZ_LINES - lines);
        for (let i = 0; i < count; i++) parts.push(factory.next(), terminator(rng));
        // Every batch ends its last line, so a frame never straddles a sample point.
        parts.push(latin1('\r\n'));
        lines += count;
        const stream = concat(...parts);
        tally.bytes += stream.length;

        const expected = reference.push(stream);
        const got: Frame[] = [];
        for (const chunk of chunks(rng, stream)) {
          try {
            for (const frame of splitter.push(chunk)) got.push(frame);
          } catch (error) {
            findings.add(`LineSplitter.push threw ${String(error)}`, chunk);
          }
        }
        if (splitter.pendingBytes !== 0) findings.add('the splitter kept bytes after a terminator', stream);
        if (got.length !== expected.length) {
          findings.add(`splitter gave ${got.length} frames, the reference ${expected.length}`, stream);
        }
        for (let i = 0; i < got.length; i++) {
          const frame = got[i]!;
          if (!sameFrame(frame, expected[i])) {
            findings.add(
              `frame ${JSON.stringify(frame)} differs from ${JSON.stringify(expected[i])}`,
              frameText(frame),
            );
          }
          tally.frames++;
          checkFrame(frame, findings, tally);
        }

        if (lines >= nextSample) {
          heap.sample();
          nextSample = lines + Math.max(2000, Math.floor(FUZZ_LINES / 20));
        } else heap.observe();
      }
      heap.sample();
      const seconds = (performance.now() - started) / 1000;
      const codes = [...tally.rejections].sort(([a], [b]) => a - b).map(([c, n]) => `${c}:${n}`);
      console.log(
        `fuzz protocol: ${lines} lines, ${tally.frames} frames, ${(tally.bytes / MiB).toFixed(1)} MiB in ` +
          `${seconds.toFixed(1)} s = ${Math.round(lines / seconds)} lines/s; requests ${tally.requests}, ` +
          `rejections ${codes.join(' ')}, replies parsed ${tally.replies}; heap after gc: baseline ` +
          `${mib(heap.baseline)}, peak ${mib(heap.peakAfterGc)}, end ${mib(heap.last)}; peak heapUsed ` +
          `${mib(heap.peakLive)}, peak RSS ${mib(heap.peakRss)} (seed ${FUZZ_SEED})`,
      );

      expect(findings.count, findings.report(FUZZ_SEED, FUZZ_LINES)).toBe(0);
      expect(heap.growth, `heap after gc grew ${mib(heap.growth)}`).toBeLessThan(HEAP_BOUND);
      // The run really went through every branch.
      expect(tally.requests).toBeGreaterThan(lines / 50);
      for (const code of REJECTION_CODES) expect(tally.rejections.get(code) ?? 0).toBeGreaterThan(0);
    },
    timeoutFor(FUZZ_LINES, 150),
  );
});

function frameText(frame: Frame): string {
  return frame.kind === 'too-long' ? `(too-long ${frame.length})` : frame.text;
}

function sameFrame(a: Frame, b: Frame | undefined): boolean {
  if (!b || a.kind !== b.kind) return false;
  if (a.kind === 'too-long') return b.kind === 'too-long' && a.length === b.length;
  if (a.kind === 'bad-bytes') return b.kind === 'bad-bytes' && a.text === b.text && a.offset === b.offset;
  return b.kind === 'line' && a.text === b.text;
}

interface Tally {
  requests: number;
  replies: number;
  rejections: Map<number, number>;
}

function checkFrame(frame: Frame, findings: Findings, tally: Tally): void {
  const input = frameText(frame);
  // Frame invariants (splitter.ts): what a receiver may rely on.
  if (frame.kind === 'line') {
    if (!PRINTABLE.test(frame.text) || frame.text.length > MAX_LINE_BYTES || frame.text.trim() === '')
      findings.add('a line frame that is not 1-512 printable bytes, not blank', input);
  } else if (frame.kind === 'bad-bytes') {
    const code = frame.text.charCodeAt(frame.offset);
    if (
      frame.text.length > MAX_LINE_BYTES ||
      !(code < 0x20 || code > 0x7e) ||
      !PRINTABLE.test(frame.text.slice(0, frame.offset))
    )
      findings.add(`a bad-bytes frame whose offset ${frame.offset} is not its first bad byte`, input);
  } else if (frame.length <= MAX_LINE_BYTES) findings.add('a too-long frame within the limit', input);

  let result: RequestResult | undefined;
  try {
    result = readRequest(frame);
  } catch (error) {
    findings.add(`readRequest threw ${String(error)}`, input);
  }
  if (result) checkRequest(frame, result, findings, tally);

  if (frame.kind !== 'too-long') {
    try {
      const reply = parseReply(frame.text);
      if (reply.ok) {
        tally.replies++;
        const r = reply.reply;
        if (
          !REPLY_KINDS.has(r.kind) ||
          (r.id !== undefined && !ID.test(r.id)) ||
          typeof r.crc !== 'boolean' ||
          (r.kind === 'evt') !== (r.event !== undefined) ||
          (r.event !== undefined && !WORD.test(r.event)) ||
          (r.kind === 'evt' && r.id !== undefined) ||
          Object.values(r.fields).some((v) => typeof v !== 'string')
        )
          findings.add(`parseReply returned an ill-typed reply ${JSON.stringify(r)}`, input);
      } else if (
        typeof reply.problem !== 'string' ||
        reply.problem === '' ||
        typeof reply.crcBad !== 'boolean'
      )
        findings.add(`parseReply returned an ill-typed problem ${JSON.stringify(reply)}`, input);
    } catch (error) {
      findings.add(`parseReply threw ${String(error)}`, input);
    }
    try {
      const masked = maskLine(frame.text);
      if (typeof masked !== 'string') findings.add('maskLine returned a non-string', input);
    } catch (error) {
      findings.add(`maskLine threw ${String(error)}`, input);
    }
  }
}

function checkRequest(frame: Frame, result: RequestResult, findings: Findings, tally: Tally): void {
  const input = frameText(frame);
  const crcToken = frame.kind !== 'too-long' && splitCrc(frame.text) !== undefined;
  if (result.ok) {
    tally.requests++;
    const { request } = result;
    if (
      frame.kind !== 'line' ||
      !VERBS.includes(request.verb) ||
      request.raw !== frame.text ||
      request.crc !== crcToken ||
      (request.id !== undefined && !ID.test(request.id)) ||
      [...request.args.values()].some((v) => !(v instanceof Uint8Array))
    )
      findings.add(`readRequest accepted an ill-typed request ${request.verb}`, input);
    return;
  }
  const { rejection } = result;
  tally.rejections.set(rejection.code, (tally.rejections.get(rejection.code) ?? 0) + 1);
  let slugOk = false;
  try {
    slugOk = codeOfSlug(rejection.reason) === rejection.code;
  } catch {
    slugOk = false;
  }
  if (
    !REJECTION_CODES.has(rejection.code) ||
    !slugOk ||
    (rejection.id !== undefined && !ID.test(rejection.id)) ||
    (rejection.msg !== undefined && encodeValue(rejection.msg).length > MAX_FREE_TEXT) ||
    (rejection.key !== undefined && encodeValue(rejection.key).length > MAX_ECHOED_KEY) ||
    (rejection.code === 413) !== (frame.kind === 'too-long') ||
    (rejection.code === 413 && (rejection.crc || rejection.id !== undefined)) ||
    (rejection.code === 460 && !rejection.crc) ||
    (rejection.code !== 413 && rejection.crc !== crcToken)
  ) {
    findings.add(`readRequest rejected with an ill-formed ${JSON.stringify(rejection)}`, input);
    return;
  }
  // The ERR line a terminal builds from it is a valid reply within the limits.
  const fields: [string, string][] = [];
  if (rejection.key !== undefined) fields.push(['key', rejection.key]);
  if (rejection.msg !== undefined) fields.push(['msg', rejection.msg]);
  const line = encodeErr({ id: rejection.id, crc: rejection.crc }, rejection.code, rejection.reason, fields);
  const parsed = parseReply(line);
  if (
    line.length > MAX_LINE_BYTES ||
    !PRINTABLE.test(line) ||
    !parsed.ok ||
    parsed.reply.kind !== 'err' ||
    parsed.reply.fields.code !== String(rejection.code) ||
    parsed.reply.id !== rejection.id ||
    parsed.reply.crc !== rejection.crc
  )
    findings.add(`the ERR line for a rejection is not a valid reply: ${line}`, input);
}
