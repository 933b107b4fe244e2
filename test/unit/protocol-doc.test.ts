/**
 * docs/protocol.md is the TSP/1 contract; test/fixtures/{tsp-examples,crc-vectors,line-vectors}.json
 * hold the same examples and vectors for machines. This test keeps the three and src/protocol in
 * agreement: the document's `tsp` blocks are the fixtures' bytes, every CRC verifies, every line
 * vector reads as it says, and every example's host line is accepted or rejected exactly as the
 * terminal's next line says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  crc16,
  DIAG_CHECKS,
  encodeErr,
  encodeValue,
  formatCrc,
  LineSplitter,
  MAX_ECHOED_KEY,
  MAX_FREE_TEXT,
  MAX_LINE_BYTES,
  NOT_REPLAYED,
  parseLine,
  parseReply,
  type Rejection,
  readRequest,
  splitCrc,
  VERBS,
} from '../../src/protocol/index.js';

interface Step {
  dir: 'C' | 'T';
  line: string;
  terminator: string;
  afterMs?: number;
  note?: string;
}

interface Example {
  name: string;
  title: string;
  setup: string;
  description: string;
  steps: Step[];
}

interface Setup {
  description: string;
  conditions: string[];
  steps: Step[];
}

interface ExamplesFile {
  identity: { model: string; sn: string; fw: string };
  variableFields: Record<string, string>;
  setups: Record<string, Setup>;
  examples: Example[];
}

interface CrcFile {
  check: { input: string; crc: string };
  vectors: Array<{ input: string; inputHex: string; crc: string }>;
}

interface ParsedForm {
  id?: string;
  words: string[];
  fields: Array<{ key: string; valueHex: string }>;
  crc: boolean;
}

interface RejectForm {
  code: number;
  reason: string;
  id?: string;
  key?: string;
  crc: boolean;
}

interface LineVector {
  role: 'request' | 'reply' | 'event' | 'ignored' | 'invalid';
  line: string;
  expect: { parsed?: ParsedForm; reject?: RejectForm; ignored?: true };
}

const root = new URL('../../', import.meta.url);
const readText = (path: string) => readFileSync(new URL(path, root), 'utf8');
const readJson = <T>(path: string): T => JSON.parse(readText(path)) as T;

const doc = readText('docs/protocol.md');
const examplesFile = readJson<ExamplesFile>('test/fixtures/tsp-examples.json');
const crcFile = readJson<CrcFile>('test/fixtures/crc-vectors.json');
const lineVectors = readJson<{ vectors: LineVector[] }>('test/fixtures/line-vectors.json').vectors;

/** Fixture lines hold one character per byte. */
const bytes = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex').toUpperCase();

// ---------------------------------------------------------------------------------------------
// Reading docs/protocol.md

interface Block {
  info: string;
  lines: string[];
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  for (const line of markdown.split('\n')) {
    if (open === undefined) {
      const fence = /^```(\S*)\s*$/.exec(line);
      if (fence) open = { info: fence[1]!, lines: [] };
    } else if (/^```\s*$/.test(line)) {
      blocks.push(open);
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  if (open !== undefined) throw new Error('unclosed code block in docs/protocol.md');
  return blocks;
}

const TERMINATORS: Record<string, string> = { CR: '\r', LF: '\n', CRLF: '\r\n' };

/** The notation of docs/protocol.md section 22 back to wire steps. */
function stepsOfBlock(lines: string[]): Step[] {
  const steps: Step[] = [];
  let hostTerminator = '\r\n';
  let afterMs: number | undefined;
  const notes: string[] = [];
  lines.forEach((text, index) => {
    const terminator = /^# terminator: (CR|LF|CRLF)$/.exec(text);
    if (terminator) {
      if (index !== 0) throw new Error(`"${text}" must be the block's first line`);
      hostTerminator = TERMINATORS[terminator[1]!]!;
      return;
    }
    const after = /^# after (\d+) ms$/.exec(text);
    if (after) {
      afterMs = Number(after[1]);
      return;
    }
    if (text.startsWith('# ')) {
      notes.push(text.slice(2));
      return;
    }
    const match = /^([CT]): (.*)$/.exec(text);
    if (!match) throw new Error(`not a wire line: ${JSON.stringify(text)}`);
    const dir = match[1] as 'C' | 'T';
    const step: Step = {
      dir,
      line: decodeShown(match[2]!),
      terminator: dir === 'C' ? hostTerminator : '\r\n',
    };
    if (afterMs !== undefined) step.afterMs = afterMs;
    if (notes.length > 0) step.note = notes.join('\n');
    afterMs = undefined;
    notes.length = 0;
    steps.push(step);
  });
  return steps;
}

/** `⟨HH⟩` is the byte 0xHH; every other character must be printable ASCII. */
function decodeShown(text: string): string {
  const decoded = text.replace(/⟨([0-9A-F]{2})⟩/g, (_m, h: string) =>
    String.fromCharCode(Number.parseInt(h, 16)),
  );
  const plain = text.replace(/⟨[0-9A-F]{2}⟩/g, '');
  if (!/^[\x20-\x7e]*$/.test(plain))
    throw new Error(`unescaped non-printable byte in ${JSON.stringify(text)}`);
  return decoded;
}

const blocks = fencedBlocks(doc);
const exampleBlocks = blocks.filter((b) => b.info === 'tsp');
const setupBlocks = blocks.filter((b) => b.info === 'tsp-setup');

// ---------------------------------------------------------------------------------------------
// Checking a transcript against src/protocol

/** The reply a terminal sends to a line readRequest rejected (field order: docs/protocol.md D26). */
function rejectionLine(r: Rejection): string {
  const extra: Array<[string, string]> = [];
  if (r.key !== undefined) extra.push(['key', r.key]);
  if (r.msg !== undefined) extra.push(['msg', r.msg]);
  return encodeErr({ id: r.id, crc: r.crc }, r.code, r.reason, extra);
}

interface Pending {
  raw: string;
  id?: string;
  crc: boolean;
  verb?: string;
  rejection?: Rejection;
  lines: string[];
  done: boolean;
}

/**
 * One connection's transcript: each host line must be read by readRequest as the terminal's next
 * reply says (an exact error line for a rejection; ID echo and CRC mirror otherwise); every
 * terminal line must parse; events carry a CRC as D5 says; a retransmission gets the stored lines.
 */
function checkTranscript(steps: Step[]): void {
  const splitter = new LineSplitter();
  const cache = new Map<string, { raw: string; lines: string[] }>();
  let eventCrc = false;
  let pending: Pending | undefined;
  for (const step of steps) {
    const where = `${step.dir}: ${JSON.stringify(step.line)}`;
    if (step.dir === 'C') {
      expect(pending === undefined || pending.done, `${where} sent before the previous reply ended`).toBe(
        true,
      );
      const frames = splitter.push(bytes(step.line + step.terminator));
      expect(frames, where).toHaveLength(1);
      const result = readRequest(frames[0]!);
      if (result.ok) {
        const { request } = result;
        pending = { raw: request.raw, crc: request.crc, verb: request.verb, lines: [], done: false };
        if (request.id !== undefined) pending.id = request.id;
        expect(request.raw, where).toBe(step.line);
        eventCrc = request.crc;
      } else {
        const { rejection } = result;
        pending = { raw: step.line, crc: rejection.crc, rejection, lines: [], done: false };
        if (rejection.id !== undefined) pending.id = rejection.id;
        if (rejection.code !== 413) eventCrc = rejection.crc;
      }
      continue;
    }
    expect(step.terminator, where).toBe('\r\n');
    expect(step.line.length, `${where} is longer than ${MAX_LINE_BYTES} bytes`).toBeLessThanOrEqual(
      MAX_LINE_BYTES,
    );
    const parsed = parseReply(step.line);
    if (!parsed.ok) throw new Error(`${where} does not parse: ${parsed.problem}`);
    const { reply } = parsed;
    if (reply.kind === 'evt') {
      expect(reply.id, where).toBeUndefined();
      expect(reply.crc, `${where}: EVT CRC flag (D5)`).toBe(eventCrc);
      continue;
    }
    expect(pending !== undefined && !pending.done, `${where} answers no request`).toBe(true);
    const p = pending!;
    if (p.rejection) {
      expect(step.line, `${where} answers a line readRequest rejects`).toBe(rejectionLine(p.rejection));
    } else {
      expect(reply.id, `${where}: ID echo`).toBe(p.id);
      expect(reply.crc, `${where}: CRC mirror`).toBe(p.crc);
    }
    p.lines.push(step.line);
    if (reply.kind === 'data') continue;
    p.done = true;
    const code = reply.kind === 'ok' ? 200 : Number(reply.fields.code);
    if (p.id === undefined) continue;
    const stored = cache.get(p.id);
    if (stored && stored.raw === p.raw) {
      expect(p.lines, `${where}: a retransmission gets the stored reply (D22)`).toEqual(stored.lines);
      continue;
    }
    if (p.verb === 'REBOOT' && code === 200) cache.clear();
    if (p.verb === 'RESET' && code === 200) cache.clear();
    if (!NOT_REPLAYED.has(code) && p.verb !== 'REBOOT') cache.set(p.id, { raw: p.raw, lines: [...p.lines] });
  }
  expect(pending === undefined || pending.done, 'the transcript ends inside a reply').toBe(true);
}

function crcLines(steps: Step[]): Step[] {
  return steps.filter((s) => splitCrc(s.line) !== undefined);
}

// ---------------------------------------------------------------------------------------------

describe('docs/protocol.md and test/fixtures/tsp-examples.json', () => {
  it('hold at least 24 examples with the fixed mock identity', () => {
    expect(examplesFile.examples.length).toBeGreaterThanOrEqual(24);
    expect(examplesFile.identity).toEqual({ model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' });
    const names = examplesFile.examples.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const e of examplesFile.examples) expect(Object.keys(examplesFile.setups)).toContain(e.setup);
  });

  it('(a) every tsp block of the document is, byte for byte, the example of the same rank', () => {
    expect(exampleBlocks).toHaveLength(examplesFile.examples.length);
    exampleBlocks.forEach((block, i) => {
      const example = examplesFile.examples[i]!;
      expect(stepsOfBlock(block.lines), `example ${i + 1} (${example.name})`).toEqual(example.steps);
    });
  });

  it('(a) the document names the examples in the same order', () => {
    const named = [...doc.matchAll(/^Name `([^`]+)`; starting state \[`([^`]+)`\]/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(named).toEqual(examplesFile.examples.map((e) => [e.name, e.setup]));
  });

  it('(a) every tsp-setup block of the document is its starting state in the fixture', () => {
    const withSteps = Object.values(examplesFile.setups).filter((s) => s.steps.length > 0);
    expect(setupBlocks).toHaveLength(withSteps.length);
    setupBlocks.forEach((block, i) => {
      expect(stepsOfBlock(block.lines)).toEqual(withSteps[i]!.steps);
    });
  });

  it('(d) every host line is accepted or rejected as the next terminal line says, and every terminal line parses', () => {
    for (const example of examplesFile.examples) {
      const setup = examplesFile.setups[example.setup]!;
      try {
        checkTranscript([...setup.steps, ...example.steps]);
      } catch (error) {
        throw new Error(`example ${example.name}: ${(error as Error).message}`);
      }
    }
  });

  it('(d) every starting state is itself a valid transcript', () => {
    for (const [name, setup] of Object.entries(examplesFile.setups)) {
      try {
        checkTranscript(setup.steps);
      } catch (error) {
        throw new Error(`setup ${name}: ${(error as Error).message}`);
      }
    }
  });

  it('(b) every CRC in the examples verifies, except on the lines answered 460', () => {
    const all = [
      ...examplesFile.examples.flatMap((e) => e.steps),
      ...Object.values(examplesFile.setups).flatMap((s) => s.steps),
    ];
    const withCrc = crcLines(all);
    expect(withCrc.length).toBeGreaterThan(50);
    for (const step of withCrc) {
      const { body, crc } = splitCrc(step.line)!;
      const frames = new LineSplitter().push(bytes(`${step.line}\r\n`));
      const result = readRequest(frames[0]!);
      const answered460 = step.dir === 'C' && !result.ok && result.rejection.code === 460;
      expect(crc16(bytes(body)) === crc, `${step.dir}: ${step.line}`).toBe(!answered460);
    }
  });
});

describe('what the examples leave open, and who may run what (docs/protocol.md, its Decisions)', () => {
  /** The text of a section of docs/protocol.md, from its heading to the next one of its level. */
  function section(heading: string): string {
    const from = doc.indexOf(heading);
    if (from < 0) throw new Error(`no ${heading}`);
    const level = /^#+/.exec(heading)![0];
    const next = doc.slice(from + heading.length).search(new RegExp(`\\n${level} `));
    return next < 0 ? doc.slice(from) : doc.slice(from, from + heading.length + next);
  }

  it('D51: the fixture names the variable fields, "How to read them" names each, and each occurs in an example', () => {
    expect(Object.keys(examplesFile.variableFields).sort()).toEqual(['ms', 'retry_after', 'utc']);
    const howTo = section('### How to read them');
    const lines = examplesFile.examples.flatMap((e) =>
      e.steps.filter((s) => s.dir === 'T').map((s) => s.line),
    );
    for (const field of Object.keys(examplesFile.variableFields)) {
      expect(howTo, field).toContain(`\`${field}\``);
      expect(
        lines.some((l) => l.includes(` ${field}=`)),
        field,
      ).toBe(true);
    }
    expect(howTo).toMatch(/`ms` is optional/);
  });

  it('D52: section 12 and every command of section 15 say who may run it as the command table does', () => {
    const table = section('## 12. Accounts')
      .split('\n')
      .filter((l) => /^\| [A-Z]/.test(l));
    const rows = table.map((row) => row.split('|').map((cell) => cell.trim()));
    const needs: Record<string, string> = { public: 'nothing', self: 'any login', admin: 'the admin' };
    const listed: string[] = [];
    for (const [, commands, who, whileMustChange] of rows) {
      for (const verb of commands!.split(', ')) {
        listed.push(verb);
        const spec = COMMANDS[verb as keyof typeof COMMANDS];
        expect(spec, verb).toBeDefined();
        expect(who!.startsWith(needs[spec.access]!), `${verb}: ${who}`).toBe(true);
        expect(whileMustChange, verb).toBe(spec.allowedWhileMustChange ? 'runs' : '428');
      }
    }
    expect(listed.sort()).toEqual([...VERBS].sort());
    const entries = section('## 15. Commands');
    const phrase: Record<string, RegExp> = {
      public: /^Anyone; runs while `must_change`\./,
      self: /^Any login; runs while `must_change`\./,
      admin: /^Admin\./,
    };
    for (const verb of VERBS) {
      const at = entries.indexOf(`### ${verb}\n`);
      expect(at, verb).toBeGreaterThanOrEqual(0);
      const usage = entries.slice(at).split('\n\n')[1]!;
      const who = usage.slice(usage.indexOf('`.') + 3);
      expect(who, verb).toMatch(phrase[COMMANDS[verb].access]!);
    }
  });
});

describe('CRC vectors', () => {
  it('(b) the check value: "123456789" is 29B1', () => {
    expect(crcFile.check).toEqual({ input: '123456789', crc: '29B1' });
    expect(formatCrc(crc16('123456789'))).toBe('29B1');
  });

  it('(b) at least 10 vectors, the empty input and inputs with spaces among them', () => {
    expect(crcFile.vectors.length).toBeGreaterThanOrEqual(10);
    expect(crcFile.vectors.some((v) => v.input === '')).toBe(true);
    expect(crcFile.vectors.filter((v) => v.input.includes(' ')).length).toBeGreaterThanOrEqual(3);
  });

  it('(b) every vector verifies, over its text and over its hex bytes', () => {
    for (const v of crcFile.vectors) {
      expect(hex(bytes(v.input)), v.input).toBe(v.inputHex);
      expect(formatCrc(crc16(Buffer.from(v.inputHex, 'hex'))), v.input).toBe(v.crc);
      expect(formatCrc(crc16(v.input)), v.input).toBe(v.crc);
    }
  });

  it('(b) the crc block of the document lists the same vectors', () => {
    const crcBlocks = blocks.filter((b) => b.info === 'crc');
    expect(crcBlocks).toHaveLength(1);
    const rows = crcBlocks[0]!.lines.map((row) => {
      const m = /^([0-9A-F]{4}) (".*")$/.exec(row);
      if (!m) throw new Error(`bad crc row ${row}`);
      return { crc: m[1], input: JSON.parse(m[2]!) as string };
    });
    expect(rows).toEqual(crcFile.vectors.map((v) => ({ crc: v.crc, input: v.input })));
  });

  it('(b) every line with a CRC quoted in the prose verifies (␣ is a space), but an example line answered 460', () => {
    const spans = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!.replaceAll('␣', ' '));
    const answered460 = new Set(
      examplesFile.examples.flatMap((e) =>
        e.steps
          .filter((s, i) => s.dir === 'C' && e.steps[i + 1]?.line.includes(' ERR code=460 '))
          .map((s) => s.line),
      ),
    );
    const quoted = spans.filter(
      (s) => splitCrc(s) !== undefined && !s.startsWith('*') && !answered460.has(s),
    );
    expect(quoted.length).toBeGreaterThanOrEqual(4);
    for (const line of quoted) {
      const { body, crc } = splitCrc(line)!;
      expect(formatCrc(crc16(body)), line).toBe(formatCrc(crc));
    }
  });
});

describe('line vectors', () => {
  it('hold at least 30 lines: valid requests, replies and events, ignored and invalid lines', () => {
    expect(lineVectors.length).toBeGreaterThanOrEqual(30);
    for (const role of ['request', 'reply', 'event', 'ignored', 'invalid']) {
      expect(
        lineVectors.some((v) => v.role === role),
        role,
      ).toBe(true);
    }
  });

  it('(b) every CRC verifies, except on the lines whose expected answer is 460', () => {
    for (const v of lineVectors.filter((v) => splitCrc(v.line) !== undefined)) {
      const { body, crc } = splitCrc(v.line)!;
      expect(crc16(bytes(body)) === crc, v.line).toBe(v.expect.reject?.code !== 460);
    }
  });

  it('(c) valid lines parse to exactly their expected form', () => {
    for (const v of lineVectors.filter((v) => v.expect.parsed !== undefined)) {
      const result = parseLine(v.line);
      if (!result.ok) throw new Error(`${v.line}: ${result.fault.detail}`);
      const { id, words, fields, crc } = result.line;
      const form: ParsedForm = {
        ...(id !== undefined && { id }),
        words,
        fields: fields.map((f) => ({ key: f.key, valueHex: hex(f.value) })),
        crc,
      };
      expect(form, v.line).toEqual(v.expect.parsed);
      const frames = new LineSplitter().push(bytes(`${v.line}\r\n`));
      expect(frames, v.line).toEqual([{ kind: 'line', text: v.line }]);
      if (v.role === 'request') expect(readRequest(frames[0]!).ok, v.line).toBe(true);
      else {
        const reply = parseReply(v.line);
        expect(reply.ok, v.line).toBe(true);
        if (reply.ok) expect(reply.reply.kind === 'evt', v.line).toBe(v.role === 'event');
      }
    }
  });

  it('(c) ignored lines produce no frame, whatever the terminator', () => {
    for (const v of lineVectors.filter((v) => v.role === 'ignored')) {
      for (const terminator of ['\r', '\n', '\r\n']) {
        expect(new LineSplitter().push(bytes(v.line + terminator)), JSON.stringify(v.line)).toEqual([]);
      }
    }
  });

  it('(c) invalid lines are rejected exactly as expected (code, reason, ID, key, CRC)', () => {
    for (const v of lineVectors.filter((v) => v.role === 'invalid')) {
      const frames = new LineSplitter().push(bytes(`${v.line}\r\n`));
      expect(frames, v.line).toHaveLength(1);
      const result = readRequest(frames[0]!);
      if (result.ok) throw new Error(`accepted: ${v.line}`);
      const { code, reason, id, key, crc } = result.rejection;
      const form: RejectForm = {
        code,
        reason,
        ...(id !== undefined && { id }),
        ...(key !== undefined && { key }),
        crc,
      };
      expect(form, v.line).toEqual(v.expect.reject);
    }
  });

  it('(c) CR, LF and CRLF frame the same line, even split across reads', () => {
    const line = lineVectors.find((v) => v.role === 'request' && v.expect.parsed?.crc)!.line;
    for (const terminator of ['\r', '\n', '\r\n']) {
      const wire = bytes(`${line}${terminator}${line}${terminator}`);
      for (let cut = 0; cut <= wire.length; cut++) {
        const splitter = new LineSplitter();
        const frames = [...splitter.push(wire.subarray(0, cut)), ...splitter.push(wire.subarray(cut))];
        expect(frames).toEqual([
          { kind: 'line', text: line },
          { kind: 'line', text: line },
        ]);
      }
    }
  });
});

describe('bounds that docs/protocol.md §19 sets on what a terminal sends', () => {
  it('every diagnostic hint is at most 120 bytes as written (D47: quotes included)', () => {
    for (const [check, spec] of Object.entries(DIAG_CHECKS)) {
      for (const [code, entry] of Object.entries(spec.codes as Record<string, { hint: string }>)) {
        expect(encodeValue(entry.hint).length, `${check}/${code}`).toBeLessThanOrEqual(MAX_FREE_TEXT);
      }
    }
  });

  // docs/protocol.md §19, D47: msg at most 120 bytes as written, printable ASCII; an echoed key at most 64 bytes as written.
  it('§19 msg and key bounds: every rejection msg and key fit as written', () => {
    for (const v of lineVectors.filter((v) => v.role === 'invalid')) {
      const result = readRequest(new LineSplitter().push(bytes(`${v.line}\r\n`))[0]!);
      if (result.ok) throw new Error(`accepted: ${v.line}`);
      const { msg, key } = result.rejection;
      if (msg !== undefined)
        expect(encodeValue(msg).length, v.line.slice(0, 40)).toBeLessThanOrEqual(MAX_FREE_TEXT);
      if (key !== undefined)
        expect(encodeValue(key).length, v.line.slice(0, 40)).toBeLessThanOrEqual(MAX_ECHOED_KEY);
    }
  });

  it('§19 512-byte bound: every rejection reply fits in a line', () => {
    for (const v of lineVectors.filter((v) => v.role === 'invalid')) {
      const result = readRequest(new LineSplitter().push(bytes(`${v.line}\r\n`))[0]!);
      if (result.ok) throw new Error(`accepted: ${v.line}`);
      expect(rejectionLine(result.rejection).length, v.line.slice(0, 40)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
  });
});
