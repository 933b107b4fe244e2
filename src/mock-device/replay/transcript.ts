/**
 * Golden transcripts (test/fixtures/transcripts/*.trace): wire traces of representative sessions,
 * each with a header that says what it shows, how it was made and what it needs to be replayed:
 *
 *   # transcript: wrong-password
 *   # shows: ...                                  (free text, may repeat)
 *   # made: ...                                   (how, with what)
 *   # normalized: ...                             (what was rewritten: IDs renumbered)
 *   # command: posbridge provision --port <port> --merchant ... --json
 *   # stdin: Wr0ng-Pass-26                        (one per stdin line; `# pause: MS` between them)
 *   # setup: provision-factory                    (transcripts whose host side runs first, each on
 *                                                  its own connection; `factory`: none)
 *   # mock: diag-fail=printer:paper_out           (mock terminal options, as in a mock:// URL)
 *   # secret: admin = Adm1n-2026                  (a password, by name)
 *   # secrets-used: admin admin                   (the names, one per masked value, in wire order)
 *   # result: exit=1 outcome=failed error=BAD_CREDENTIALS steps=identify:done,login:failed
 *
 * Secrets: the trace masks them (`password="***"`, docs/evidence.md). Transcripts are made with
 * known test passwords, named in the header; to replay the host side, each masked value takes the
 * next name of `secrets-used` and the line's CRC is recomputed.
 */

import type { VirtualClock } from '../../protocol/index.js';
import {
  appendCrc,
  COMMANDS,
  CodedError,
  type CommandSpec,
  encodeValue,
  splitCrc,
} from '../../protocol/index.js';
import { createMemoryLink } from '../memory-link.js';
import type { MockTerminalOptions } from '../options.js';
import type { MockTerminal } from '../terminal.js';
import { fieldValues, parseTrace, type TraceEntry, type TraceFile } from './trace-file.js';

export interface StdinStep {
  line?: string;
  pauseMs?: number;
}

export interface Transcript {
  name: string;
  trace: TraceFile;
  /** Transcripts to replay first (their host side), in order; empty for a factory-fresh terminal. */
  setup: string[];
  /** The mock terminal's options (seed, faults, diag faults...). */
  mock: MockTerminalOptions;
  /** `mock:` lines as written (`key=value`), for a mock:// URL. */
  mockParams: Array<[string, string]>;
  /** Secret values in the order the masked values appear on the host side. */
  secrets: string[];
  /** The CLI command (words after `posbridge`), with `<port>` and `<credentials>` placeholders. */
  command: string[];
  stdin: StdinStep[];
  /** `result:` as key=value pairs. */
  result: Record<string, string>;
}

/** A golden transcript whose header does not read (its file named in the message). */
export class TranscriptError extends CodedError<'TRANSCRIPT_INVALID'> {
  override name = 'TranscriptError';
  constructor(message: string) {
    super('TRANSCRIPT_INVALID', message);
  }
}

/** Every key a request may carry a secret in, plus SET's `value` (the settlement account). */
const SECRET_KEYS = [
  ...new Set(
    Object.values(COMMANDS as Record<string, CommandSpec>).flatMap((spec) =>
      Object.entries(spec.args)
        .filter(([, arg]) => arg.secret)
        .map(([key]) => key),
    ),
  ),
  'value',
];
const MASKED = new RegExp(`(^| )(${SECRET_KEYS.join('|')})="\\*\\*\\*"`, 'g');

export function readTranscript(name: string, content: string): Transcript {
  const trace = parseTrace(content);
  const one = (key: string): string | undefined => fieldValues(trace, key)[0];
  const setupText = one('setup') ?? 'factory';
  const setup = setupText === 'factory' ? [] : setupText.split(/\s+/).filter(Boolean);

  const mockParams: Array<[string, string]> = fieldValues(trace, 'mock').map((text) => {
    const at = text.indexOf('=');
    if (at <= 0) throw new TranscriptError(`${name}: "mock: ${text}" is not key=value`);
    return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
  });
  const mock = mockOptions(name, mockParams);

  const named = new Map<string, string>();
  for (const text of fieldValues(trace, 'secret')) {
    const at = text.indexOf(' = ');
    if (at <= 0) throw new TranscriptError(`${name}: "secret: ${text}" is not NAME = VALUE`);
    named.set(text.slice(0, at).trim(), text.slice(at + 3));
  }
  const secrets = (one('secrets-used') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((key) => {
      const value = named.get(key);
      if (value === undefined) throw new TranscriptError(`${name}: secret "${key}" is used but not defined`);
      return value;
    });

  const stdin: StdinStep[] = [];
  for (const { key, value } of trace.fields) {
    if (key === 'stdin') stdin.push({ line: value });
    else if (key === 'pause') stdin.push({ pauseMs: Number(value) });
  }
  const result: Record<string, string> = {};
  for (const pair of (one('result') ?? '').split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const command = (one('command') ?? '').split(/\s+/).filter(Boolean);
  if (command[0] === 'posbridge') command.shift();
  return { name, trace, setup, mock, mockParams, secrets, command, stdin, result };
}

/** mock:// parameters (src/cli/mock-ports.ts) as MockTerminalOptions. */
function mockOptions(name: string, params: Array<[string, string]>): MockTerminalOptions {
  const options: MockTerminalOptions = {};
  const integer = (key: string, value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new TranscriptError(`${name}: mock ${key} must be a whole number`);
    return Number(value);
  };
  for (const [key, value] of params) {
    switch (key) {
      case 'seed':
        options.seed = integer(key, value);
        break;
      case 'fault':
        options.faults = value;
        break;
      case 'diag-fail':
        options.diagFaults = value;
        break;
      case 'tamper':
        options.tamper = value === '1' || value === 'true';
        break;
      case 'reboot-ms':
        options.rebootMs = integer(key, value);
        break;
      case 'sn':
        options.identity = { ...options.identity, sn: value };
        break;
      default:
        throw new TranscriptError(`${name}: unknown mock option "${key}"`);
    }
  }
  return options;
}

/** Host lines as they went on the wire: masked secrets put back, CRCs recomputed. */
export function hostLines(transcript: Transcript): string[] {
  let next = 0;
  const take = (): string => {
    const value = transcript.secrets[next++];
    if (value === undefined)
      throw new TranscriptError(`${transcript.name}: more masked values than secrets-used names`);
    return value;
  };
  const lines = transcript.trace.entries.filter((e) => e.direction === '>').map((e) => unmask(e.text, take));
  if (next !== transcript.secrets.length)
    throw new TranscriptError(
      `${transcript.name}: secrets-used names ${transcript.secrets.length}, masked values ${next}`,
    );
  return lines;
}

/** A traced line with its masked values replaced in order (the CRC recomputed if it had one). */
export function unmask(traced: string, take: () => string): string {
  if (!traced.includes('"***"')) return traced;
  const crc = splitCrc(traced);
  const body = (crc ? crc.body : traced).replace(MASKED, (_m, lead: string, key: string) => {
    return `${lead}${key}=${encodeValue(take())}`;
  });
  return crc ? appendCrc(body) : body;
}

/** How many masked values a traced line holds. */
export function maskedCount(traced: string): number {
  return [...traced.matchAll(MASKED)].length;
}

export function terminalLines(transcript: Transcript): string[] {
  return transcript.trace.entries.filter((e) => e.direction === '<').map((e) => e.text);
}

/**
 * Plays a transcript's host side against a terminal on a new memory connection and returns every
 * line the terminal sent. The terminal answers at once (unpaced, on a virtual clock); where the
 * recording shows terminal lines that came later on their own (`EVT boot` after a reboot), the
 * clock runs the terminal's timers until it has sent as many lines as the recording had by then.
 */
export function playHostSide(transcript: Transcript, terminal: MockTerminal, clock: VirtualClock): string[] {
  const { link, host } = createMemoryLink(`transcript ${transcript.name}`);
  terminal.attach(link);
  const got: string[] = [];
  const read = (): void => {
    got.push(...host.readLines());
  };
  const catchUp = (recorded: number): void => {
    read();
    while (got.length < recorded && clock.runNext()) read();
  };
  const lines = hostLines(transcript);
  let recorded = 0;
  let sent = 0;
  for (const entry of transcript.trace.entries as TraceEntry[]) {
    if (entry.direction === '<') {
      recorded++;
      continue;
    }
    catchUp(recorded);
    host.write(`${lines[sent++]!}\r\n`);
    read();
  }
  catchUp(recorded);
  host.close();
  return got;
}
