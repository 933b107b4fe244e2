/**
 * The wire between host and mock terminal, as the benchmarks see it: a DeviceLink wrapper on the
 * terminal's side of the cable that
 * - counts and records every line in both directions (lengths and verbs only: no secret is kept),
 * - optionally paces host→terminal bytes at the line rate, with the mock's own UART model
 *   (Pacer: 10 bit times per byte, a chunk handed over once its last bit has arrived). The mock
 *   paces only what it sends; this makes the cable full duplex at `baud` in both directions, as a
 *   real one is.
 *
 * From the recording, two floors of one session:
 * - `specFloorMs` (issue 6): all bytes both ways x 10 / baud + the terminal's declared processing
 *   time (DIAG checks' typicalMs x diagTimeScale; no reboot in a provisioning);
 * - `criticalPathMs`: the same bytes and processing, scheduled as TSP/1 allows (one request in
 *   flight; a DIAG DATA line goes on the wire while the next check runs). This is what a perfect
 *   host and a perfect wire would need; it is below the spec floor by the overlap inside DIAG.
 */

import { performance } from 'node:perf_hooks';
import { unrefTimers } from '../../src/mock-device/clock.js';
import type { DeviceLink, LinkHandler } from '../../src/mock-device/link.js';
import { BITS_PER_BYTE, Pacer } from '../../src/mock-device/pacer.js';
import { DIAG_CHECK_ORDER, DIAG_CHECKS, type DiagCheck, systemClock } from '../../src/protocol/index.js';

export interface WireLine {
  direction: 'h2t' | 't2h';
  /** Bytes including the line terminator. */
  bytes: number;
  /** The request's verb (host→terminal), or the reply kind (OK, ERR, DATA, EVT). */
  word: string;
  /**
   * performance.now() when the line's last byte crossed the terminal's end of the link: as the
   * host wrote it (before any input pacing) for h2t, as delivered to the host for t2h.
   */
  at: number;
}

export interface WireRecording {
  lines: WireLine[];
  h2tBytes: number;
  t2hBytes: number;
}

export function newRecording(): WireRecording {
  return { lines: [], h2tBytes: 0, t2hBytes: 0 };
}

export interface WireOptions {
  baud: number;
  /** Pace host→terminal bytes at `baud` (the mock itself paces only its output). */
  paceInput: boolean;
  recording: WireRecording;
}

/** Wraps a terminal's LinkHandler so that each link it gets is counted (and paced, if asked). */
export function wireHandler(handler: LinkHandler, options: WireOptions): LinkHandler {
  return (link) => handler(wireLink(link, options));
}

function wireLink(link: DeviceLink, options: WireOptions): DeviceLink {
  const { recording } = options;
  const h2t = lineCounter('h2t', recording);
  const t2h = lineCounter('t2h', recording);
  let pacer: Pacer | undefined;
  return {
    label: link.label,
    send(bytes) {
      recording.t2hBytes += bytes.length;
      t2h(bytes);
      link.send(bytes);
    },
    onReceive(handler) {
      if (options.paceInput && options.baud > 0) {
        pacer = new Pacer({
          baud: options.baud,
          clock: systemClock,
          timers: unrefTimers,
          deliver: (bytes) => handler(bytes),
        });
      }
      link.onReceive((bytes) => {
        recording.h2tBytes += bytes.length;
        h2t(bytes);
        if (pacer) pacer.write(bytes);
        else handler(bytes);
      });
    },
    onClose(handler) {
      link.onClose(() => {
        pacer?.stop();
        handler();
      });
    },
    close() {
      pacer?.stop();
      link.close();
    },
  };
}

/** Splits a byte stream at LF (senders write CRLF) and records each line's length and first word. */
function lineCounter(
  direction: WireLine['direction'],
  recording: WireRecording,
): (bytes: Uint8Array) => void {
  let pending: number[] = [];
  return (bytes) => {
    for (const byte of bytes) {
      pending.push(byte);
      if (byte !== 0x0a) continue;
      recording.lines.push({
        direction,
        bytes: pending.length,
        word: firstWord(pending, direction),
        at: performance.now(),
      });
      pending = [];
    }
  };
}

function firstWord(bytes: number[], direction: WireLine['direction']): string {
  const text = String.fromCharCode(...bytes.slice(0, 40)).trim();
  const words = text.split(' ');
  const word = words[0]?.startsWith('@') ? words[1] : words[0];
  // A request's verb, or a reply's kind: never an argument (they may be secrets).
  return direction === 'h2t' ? (word ?? '') : (word ?? '').replace(/[^A-Z]/g, '');
}

export interface Floors {
  h2tBytes: number;
  t2hBytes: number;
  h2tWireMs: number;
  t2hWireMs: number;
  processingMs: number;
  rebootMs: number;
  /** (h2t + t2h) x 10 / baud + processing + reboot. */
  specFloorMs: number;
  /** The same work scheduled as TSP/1 allows (see the module comment). */
  criticalPathMs: number;
  /** criticalPathMs with host→terminal bytes free (the mock as shipped does not pace them). */
  criticalPathUnpacedInputMs: number;
  exchanges: number;
}

/** DIAG's processing as the mock declares it: each check typicalMs x scale, rounded as the mock does. */
export function diagDurations(checks: readonly DiagCheck[], diagTimeScale: number): number[] {
  return checks.map((check) => Math.max(0, Math.round(DIAG_CHECKS[check].typicalMs * diagTimeScale)));
}

export function floors(
  recording: WireRecording,
  baud: number,
  diagTimeScale: number,
  checks: readonly DiagCheck[] = DIAG_CHECK_ORDER,
): Floors {
  const byteMs = (BITS_PER_BYTE * 1000) / baud;
  const durations = diagDurations(checks, diagTimeScale);
  const processingMs = durations.reduce((a, b) => a + b, 0);

  // Group lines into exchanges: a request, then what the terminal sent until the next request.
  const exchanges: Array<{ verb: string; request: number; replies: WireLine[] }> = [];
  const before: WireLine[] = [];
  for (const line of recording.lines) {
    if (line.direction === 'h2t') exchanges.push({ verb: line.word, request: line.bytes, replies: [] });
    else (exchanges.at(-1)?.replies ?? before).push(line);
  }

  let critical = 0;
  let criticalUnpaced = 0;
  for (const exchange of exchanges) {
    // When the terminal emits each reply line, from the end of the request: DIAG emits DATA line
    // k when check k ends and its OK with the last one; every other command answers at once.
    const emitted: number[] = [];
    if (exchange.verb === 'DIAG') {
      let t = 0;
      let k = 0;
      for (const line of exchange.replies) {
        if (line.word === 'DATA' && k < durations.length) t += durations[k++]!;
        emitted.push(t);
      }
    } else {
      for (const _ of exchange.replies) emitted.push(0);
    }
    let wireFree = 0;
    exchange.replies.forEach((line, i) => {
      wireFree = Math.max(emitted[i]!, wireFree) + line.bytes * byteMs;
    });
    critical += exchange.request * byteMs + wireFree;
    criticalUnpaced += wireFree;
  }
  const leading = before.reduce((a, l) => a + l.bytes * byteMs, 0);

  const h2tWireMs = recording.h2tBytes * byteMs;
  const t2hWireMs = recording.t2hBytes * byteMs;
  return {
    h2tBytes: recording.h2tBytes,
    t2hBytes: recording.t2hBytes,
    h2tWireMs,
    t2hWireMs,
    processingMs,
    rebootMs: 0,
    specFloorMs: h2tWireMs + t2hWireMs + processingMs,
    criticalPathMs: critical + leading,
    criticalPathUnpacedInputMs: criticalUnpaced + leading,
    exchanges: exchanges.length,
  };
}

/**
 * Sum over exchanges of the time from the last line of a reply reaching the host to the next
 * request leaving it: the host's own work per run (the serial stack, parsing, the workflow,
 * encoding), plus any lateness of this process's event loop.
 */
export function hostTurnaroundMs(recording: WireRecording): number {
  let total = 0;
  let lastReplyAt: number | undefined;
  for (const line of recording.lines) {
    if (line.direction === 't2h') lastReplyAt = line.at;
    else if (lastReplyAt !== undefined) {
      total += line.at - lastReplyAt;
      lastReplyAt = undefined;
    }
  }
  return total;
}
