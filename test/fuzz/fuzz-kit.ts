/**
 * The fuzzers' shared kit: a seeded generator of TSP/1 lines (grammar-built and mutated from the
 * fixtures), random chunking, a reference line splitter, and a heap probe.
 *
 * Everything is driven by one seed, so a failure is reproduced by `FUZZ_SEED=N FUZZ_LINES=M`.
 * The suite runs FUZZ_LINES=20000 (a few seconds); the long run (docs/evidence.md, "Fuzzing") is
 * `FUZZ_LINES=1000000 npx vitest run test/fuzz`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  appendCrc,
  COMMANDS,
  crc16,
  DIAG_CHECK_ORDER,
  type Frame,
  formatCrc,
  MAX_LINE_BYTES,
  SETTING_KEYS,
  splitCrc,
  VERBS,
} from '../../src/protocol/index.js';

export const FUZZ_LINES = positiveInt('FUZZ_LINES', 20_000);
export const FUZZ_SEED = positiveInt('FUZZ_SEED', 20_260_601);

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text)) throw new Error(`${name} must be a whole number, not "${text}"`);
  return Number(text);
}

/** A test timeout that grows with the number of lines (the long run takes minutes). */
export function timeoutFor(lines: number, microsPerLine: number): number {
  return 30_000 + Math.ceil((lines * microsPerLine) / 1000) * 3;
}

// ---------------------------------------------------------------------------------------------
// Randomness: sfc32, seeded by splitmix32 (fast, good enough, and reproducible everywhere)
// ---------------------------------------------------------------------------------------------

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

// ---------------------------------------------------------------------------------------------
// The seed corpus: every line of the fixtures
// ---------------------------------------------------------------------------------------------

const FIXTURES = resolve(import.meta.dirname, '../fixtures');

interface Step {
  dir: string;
  line: string;
}

/** Every line of test/fixtures/line-vectors.json and tsp-examples.json, as bytes (latin1). */
export function fixtureLines(): Uint8Array[] {
  const vectors = JSON.parse(readFileSync(resolve(FIXTURES, 'line-vectors.json'), 'utf8')) as {
    vectors: { line: string }[];
  };
  const examples = JSON.parse(readFileSync(resolve(FIXTURES, 'tsp-examples.json'), 'utf8')) as {
    setups: Record<string, { steps: Step[] }>;
    examples: { steps: Step[] }[];
  };
  const lines = new Set<string>();
  for (const v of vectors.vectors) lines.add(v.line);
  for (const setup of Object.values(examples.setups)) for (const s of setup.steps) lines.add(s.line);
  for (const example of examples.examples) for (const s of example.steps) lines.add(s.line);
  return [...lines].map(latin1);
}

export function latin1(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'latin1');
  // A plain Uint8Array: a Buffer's slice() is a view, and mutations must never touch the corpus.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

/** A line as a JSON string literal (one character per byte): what a failure report shows. */
export function show(bytes: Uint8Array | string): string {
  const value = typeof bytes === 'string' ? bytes : text(bytes);
  return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}...(${value.length} bytes)` : value);
}

// ---------------------------------------------------------------------------------------------
// Grammar-built lines: requests (with the values that get past the arguments), replies, events
// ---------------------------------------------------------------------------------------------

const PASSWORDS = ['1234', '123456', 'K7m.Vq29x', 'Adm1n-2026', 'wrong', 'aaaaaa', 'Op3rator!x', ''];
const VALUE_POOL = [
  'admin',
  '01',
  '02',
  '99',
  '00',
  '1',
  '0',
  '08583',
  '822100052110023',
  '10023456',
  'PBM0000001',
  'sale,query',
  'sale,refund,query,report,settings',
  'sale,sale',
  'wifi',
  'eth',
  'gprs',
  '2025-06-01T12:00:00Z',
  '2025-02-30T00:00:00Z',
  'acq.example.net',
  '7010',
  '65536',
  '+41-22-555',
  ...DIAG_CHECK_ORDER,
  DIAG_CHECK_ORDER.join(','),
  'printer,printer',
  ...SETTING_KEYS,
  ...PASSWORDS,
];
const QUOTED_POOL = [
  '""',
  '"Caf\\xC3\\xA9"',
  '"a b"',
  '"\\"q\\""',
  '"\\\\"',
  '"\\xFF\\xFE"',
  '"\\x00"',
  '"Initial account"',
  '"K7m Vq29x"',
  '"\\n"',
  '"unterminated',
  '"a"b',
];
const EXTRA_KEYS = ['x', 'USER', 'key', 'value', 'password', 'a.b_c', '9', 'k'];

export class LineFactory {
  private readonly seeds: Uint8Array[];
  private count = 0;

  constructor(
    private readonly rng: Rng,
    seeds: Uint8Array[] = fixtureLines(),
  ) {
    this.seeds = seeds;
  }

  /** Lines made so far. */
  get made(): number {
    return this.count;
  }

  /**
   * The next line (without terminator; it may contain CR or LF, which the splitter then treats as
   * terminators). The first 256 x 3 lines sweep every byte value 0x00-0xFF through the corpus.
   */
  next(): Uint8Array {
    const n = this.count++;
    if (n < 256 * 3) return this.byteSweep(n);
    const { rng } = this;
    const roll = rng.int(100);
    if (roll < 10) return this.maybeRetag(rng.pick(this.seeds));
    if (roll < 30) return this.request();
    if (roll < 36) return this.reply();
    if (roll < 80) return this.mutate(rng.chance(0.5) ? rng.pick(this.seeds) : this.request());
    if (roll < 85) return this.randomBytes();
    if (roll < 93) return this.boundary();
    return this.mutate(this.reply());
  }

  /** Byte b inserted into a seed line, replacing one of its bytes, or alone. */
  private byteSweep(n: number): Uint8Array {
    const b = n % 256;
    const seed = this.rng.pick(this.seeds);
    switch (Math.floor(n / 256)) {
      case 0:
        return insert(seed, this.rng.int(seed.length + 1), Uint8Array.of(b));
      case 1: {
        if (seed.length === 0) return Uint8Array.of(b);
        const copy = new Uint8Array(seed);
        copy[this.rng.int(copy.length)] = b;
        return this.rng.chance(0.5) ? fixCrc(copy) : copy;
      }
      default:
        return Uint8Array.of(b, b, b);
    }
  }

  /** A request of the command table, mostly well-formed, values from a pool that gets past checks. */
  request(): Uint8Array {
    const { rng } = this;
    const verb = rng.pick(VERBS);
    const word = rng.chance(0.1) ? verb.toLowerCase() : rng.chance(0.03) ? `${verb}X` : verb;
    const parts: string[] = [];
    const spec = COMMANDS[verb] as { args: Record<string, { required: boolean }> };
    for (const [key, arg] of Object.entries(spec.args)) {
      if (!arg.required && rng.chance(0.5)) continue;
      if (arg.required && rng.chance(0.03)) continue;
      parts.push(`${key}=${this.value(key)}`);
      if (rng.chance(0.02)) parts.push(`${key}=${this.value(key)}`);
    }
    if (rng.chance(0.05)) parts.push(`${rng.pick(EXTRA_KEYS)}=${this.value('x')}`);
    if (rng.chance(0.02)) parts.splice(rng.int(parts.length + 1), 0, 'EXTRA');
    let line = [word, ...parts].join(' ');
    if (rng.chance(0.7)) line = `@${this.id()} ${line}`;
    return latin1(this.crcTail(line));
  }

  /** A reply or event line (what the daemon reads). */
  reply(): Uint8Array {
    const { rng } = this;
    const kind = rng.pick(['OK', 'DATA', 'ERR', 'EVT', 'ok', 'NOPE']);
    const parts: string[] = [];
    if (kind === 'EVT') parts.push(rng.pick(['boot', 'state', 'lockout', 'noise', '9x']));
    if (kind === 'ERR')
      parts.push(`code=${rng.pick(['400', '401', '404', '423', '503', '999', 'x'])}`, 'reason=syntax');
    const fields = rng.int(6);
    for (let i = 0; i < fields; i++)
      parts.push(`${rng.pick([...EXTRA_KEYS, 'sn', 'state', 'remaining'])}=${this.value('x')}`);
    let line = [kind, ...parts].join(' ');
    if (kind !== 'EVT' ? rng.chance(0.7) : rng.chance(0.05)) line = `@${this.id()} ${line}`;
    return latin1(this.crcTail(line));
  }

  private value(key: string): string {
    const { rng } = this;
    if (key === 'password' || key === 'old' || key === 'new' || key === 'confirm') {
      if (rng.chance(0.8)) return quoteIfNeeded(rng.pick(PASSWORDS));
    }
    if (rng.chance(0.15)) return rng.pick(QUOTED_POOL);
    if (rng.chance(0.03)) return 'x'.repeat(rng.range(60, 200));
    return quoteIfNeeded(rng.pick(VALUE_POOL));
  }

  private id(): string {
    const { rng } = this;
    if (rng.chance(0.05)) return rng.pick(['', '123456789', 'x1', '007', '-1']);
    return String(rng.range(0, rng.chance(0.5) ? 20 : 99_999_999));
  }

  /** Mostly a right CRC, sometimes a wrong or malformed one, or none. */
  private crcTail(line: string): string {
    const { rng } = this;
    const roll = rng.int(100);
    if (roll < 55) return appendCrc(line);
    if (roll < 60) return `${line} *${formatCrc(crc16(line) ^ (1 << rng.int(16)))}`;
    if (roll < 63) return `${line} ${rng.pick(['*12G4', '*123', '*', '*12345', '*abcd'])}`;
    if (roll < 65) return `${appendCrc(line)}${' '.repeat(rng.range(1, 3))}`;
    return line;
  }

  private maybeRetag(seed: Uint8Array): Uint8Array {
    return this.rng.chance(0.3) ? fixCrc(seed) : seed;
  }

  /** 1 to 4 mutations; then, half the time, a CRC that matches (so the line gets past 460). */
  mutate(input: Uint8Array): Uint8Array {
    const { rng } = this;
    let line = input;
    const rounds = rng.range(1, 4);
    for (let i = 0; i < rounds; i++) line = this.mutateOnce(line);
    if (line.length <= MAX_LINE_BYTES + 8 && rng.chance(0.5)) line = fixCrc(line);
    return line;
  }

  private mutateOnce(line: Uint8Array): Uint8Array {
    const { rng } = this;
    const at = rng.int(line.length + 1);
    switch (rng.int(12)) {
      case 0: {
        // bit flip
        if (line.length === 0) return line;
        const copy = new Uint8Array(line);
        const i = rng.int(copy.length);
        copy[i] = copy[i]! ^ (1 << rng.int(8));
        return copy;
      }
      case 1:
        return insert(line, at, Uint8Array.of(rng.int(256)));
      case 2:
        return insert(line, at, latin1(rng.pick(INTERESTING)));
      case 3: {
        // delete a run
        const end = Math.min(line.length, at + rng.range(1, 8));
        return concat(line.subarray(0, at), line.subarray(end));
      }
      case 4: {
        // splice with another line
        const other = rng.chance(0.5) ? rng.pick(this.seeds) : this.request();
        return concat(line.subarray(0, at), other.subarray(rng.int(other.length + 1)));
      }
      case 5: {
        // repeat a slice
        const start = rng.int(line.length + 1);
        const slice = line.subarray(start, start + rng.range(1, 16));
        const times = rng.chance(0.1) ? rng.range(20, 200) : rng.range(2, 6);
        const parts: Uint8Array[] = [line.subarray(0, start)];
        for (let i = 0; i < times; i++) parts.push(slice);
        parts.push(line.subarray(start));
        return concat(...parts);
      }
      case 6:
        // truncate
        return line.subarray(0, at);
      case 7: {
        // over-long: around the 512-byte limit, or far beyond it
        const target = rng.chance(0.9) ? rng.range(505, 520) : rng.range(513, 4000);
        return pad(line, target, rng.pick([0x20, 0x41, 0x3d, 0x22, 0x00, 0xff]));
      }
      case 8:
        // a terminator inside: CR, LF, CRLF, LFCR
        return insert(line, at, latin1(rng.pick(['\r', '\n', '\r\n', '\n\r', '\r\r'])));
      case 9: {
        // spaces: leading, doubled, trailing
        const where = rng.pick([0, at, line.length]);
        return insert(line, where, latin1(' '.repeat(rng.range(1, 3))));
      }
      case 10: {
        // replace a byte with a grammar character
        if (line.length === 0) return latin1(rng.pick(INTERESTING));
        const copy = new Uint8Array(line);
        copy[rng.int(copy.length)] = rng.pick(GRAMMAR_BYTES);
        return copy;
      }
      default: {
        // swap two halves
        return concat(line.subarray(at), line.subarray(0, at));
      }
    }
  }

  private randomBytes(): Uint8Array {
    const { rng } = this;
    const length = rng.chance(0.05) ? rng.range(400, 700) : rng.range(0, 64);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
    return bytes;
  }

  /** Lines at the edges: 511-513 bytes with and without CRC, blank lines short and over-long, huge ones. */
  private boundary(): Uint8Array {
    const { rng } = this;
    switch (rng.int(6)) {
      case 0: {
        const body = `@${rng.range(1, 999)} SET key=net.apn value=`;
        const total = rng.range(MAX_LINE_BYTES - 2, MAX_LINE_BYTES + 2);
        const line = `${body}${'a'.repeat(Math.max(0, total - body.length - 8))}`;
        return latin1(appendCrc(line));
      }
      case 1:
        return pad(latin1('HELLO'), rng.range(MAX_LINE_BYTES - 1, MAX_LINE_BYTES + 1), 0x20);
      case 2:
        return latin1(' '.repeat(rng.chance(0.5) ? rng.range(1, 10) : rng.range(510, 600)));
      case 3:
        return new Uint8Array(0);
      case 4:
        // far beyond the limit (a baud mismatch, a cable that never sends a terminator)
        return pad(
          latin1('@1 STATUS'),
          rng.chance(0.1) ? rng.range(20_000, 70_000) : rng.range(600, 3000),
          0x55,
        );
      default:
        return latin1(
          `${' '.repeat(rng.range(0, 3))}@${rng.range(1, 9)}${' '.repeat(rng.range(1, 3))}STATUS${' '.repeat(rng.range(1, 3))}*0000`,
        );
    }
  }
}

const INTERESTING = [
  '"',
  '\\',
  ' ',
  '=',
  '*',
  '@',
  '\\x',
  '\\xZZ',
  '\\x4',
  '"\\',
  '=""',
  ' *',
  '@@',
  '\t',
  '\x7f',
];
const GRAMMAR_BYTES = [0x22, 0x5c, 0x20, 0x3d, 0x2a, 0x40, 0x2c, 0x2e, 0x3a, 0x2d, 0x5f, 0x78];

function quoteIfNeeded(value: string): string {
  if (/^[A-Za-z0-9_.:,+/-]+$/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The line with its CRC replaced by (or given) one that matches the rest. */
export function fixCrc(line: Uint8Array): Uint8Array {
  const value = text(line);
  const split = splitCrc(value);
  return latin1(appendCrc(split ? split.body : value));
}

export function insert(line: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  return concat(line.subarray(0, at), bytes, line.subarray(at));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function pad(line: Uint8Array, length: number, byte: number): Uint8Array {
  if (line.length >= length) return line.subarray(0, length);
  const out = new Uint8Array(length).fill(byte);
  out.set(line);
  return out;
}

const TERMINATORS = ['\r\n', '\r\n', '\r\n', '\r\n', '\n', '\n', '\r', '\r', '\n\r', '\r\r\n', ''].map(
  latin1,
);

/** How a line ends on the wire (mostly CRLF; sometimes nothing, which joins it to the next). */
export function terminator(rng: Rng): Uint8Array {
  return rng.pick(TERMINATORS);
}

/** Cut a byte stream where reads might end: single bytes, small and large pieces. */
export function* chunks(rng: Rng, bytes: Uint8Array): Generator<Uint8Array> {
  let at = 0;
  while (at < bytes.length) {
    const roll = rng.int(10);
    const size =
      roll < 2 ? 1 : roll < 6 ? rng.range(1, 16) : roll < 9 ? rng.range(16, 700) : rng.range(700, 8192);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

// ---------------------------------------------------------------------------------------------
// A reference splitter: the rules of docs/protocol.md section 3, written the obvious way
// ---------------------------------------------------------------------------------------------

export class ReferenceSplitter {
  /** The line in progress (unbounded: a test model may hold what it likes). */
  private carry: Uint8Array = new Uint8Array(0);

  push(bytes: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (byte !== 0x0d && byte !== 0x0a) continue;
      const frame = this.finish(concat(this.carry, bytes.subarray(start, i)));
      this.carry = new Uint8Array(0);
      if (frame) frames.push(frame);
      start = i + 1;
    }
    this.carry = concat(this.carry, bytes.subarray(start));
    return frames;
  }

  reset(): void {
    this.carry = new Uint8Array(0);
  }

  /** Section 3: over 512 bytes is too long; empty or only spaces is ignored; else the first bad byte decides. */
  private finish(line: Uint8Array): Frame | undefined {
    if (line.length > MAX_LINE_BYTES) return { kind: 'too-long', length: line.length };
    if (line.every((b) => b === 0x20)) return undefined;
    const value = text(line);
    const bad = line.findIndex((b) => b < 0x20 || b > 0x7e);
    return bad >= 0 ? { kind: 'bad-bytes', text: value, offset: bad } : { kind: 'line', text: value };
  }
}

// ---------------------------------------------------------------------------------------------
// Memory: heapUsed after a full collection, sampled through the run
// ---------------------------------------------------------------------------------------------

let collect: (() => void) | undefined;

/** A full garbage collection (exposes V8's gc() in this process if the flag was not given). */
export function fullGc(): void {
  if (!collect) {
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') collect = global.gc;
    else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
  collect();
}

export class HeapProbe {
  /** heapUsed after gc at the first sample (after warm-up). */
  baseline = 0;
  /** Largest heapUsed after gc. */
  peakAfterGc = 0;
  /** Largest heapUsed seen at any sample, before collecting (what the run really held). */
  peakLive = 0;
  /** Largest resident set size seen. */
  peakRss = 0;
  last = 0;
  samples = 0;

  /** Sample without a collection (cheap: call often). */
  observe(): void {
    const usage = process.memoryUsage();
    if (usage.heapUsed > this.peakLive) this.peakLive = usage.heapUsed;
    if (usage.rss > this.peakRss) this.peakRss = usage.rss;
  }

  /** Collect, then sample. */
  sample(): number {
    this.observe();
    fullGc();
    const used = process.memoryUsage().heapUsed;
    if (this.samples === 0) this.baseline = used;
    this.samples++;
    this.last = used;
    if (used > this.peakAfterGc) this.peakAfterGc = used;
    return used;
  }

  /** How far heapUsed after gc rose above the baseline at worst. */
  get growth(): number {
    return this.peakAfterGc - this.baseline;
  }
}

export const MiB = 1024 * 1024;

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** Failures kept for the report: the first few, each with what reproduces it. */
export class Findings {
  readonly list: string[] = [];
  count = 0;

  add(problem: string, input: Uint8Array | string): void {
    this.count++;
    if (this.list.length < 8) this.list.push(`${problem}\n    input: ${show(input)}`);
  }

  report(seed: number, lines: number): string {
    return (
      `${this.count} finding(s); reproduce with FUZZ_SEED=${seed} FUZZ_LINES=${lines}:\n  ` +
      this.list.join('\n  ')
    );
  }
}
