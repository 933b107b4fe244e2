/**
 * Assertions on replies. Each failure says what docs/protocol.md expects, what came, and the
 * lines involved; the check gives the section it tests.
 */
import { CheckFailure } from './failure.js';
import { showBytes, type TspLine } from './lines.js';
import type { ProbeExchange } from './probe.js';

/**
 * Expected fields: a string is the value as text, a RegExp its shape, `null` "absent", and
 * `{ written }` the value exactly as written on the wire (escapes and quotes included).
 */
export type FieldExpectation = string | RegExp | null | { written: string };
export type ExpectedFields = Readonly<Record<string, FieldExpectation>>;

function describeFields(fields: ExpectedFields): string {
  return Object.entries(fields)
    .map(([key, want]) =>
      want === null
        ? `no ${key}=`
        : typeof want === 'string'
          ? `${key}=${want}`
          : want instanceof RegExp
            ? `${key}~${want.source}`
            : `${key}=${want.written}`,
    )
    .join(' ');
}

function context(x: ProbeExchange): { sent: string; received: string[] } {
  return { sent: x.request, received: x.lines.map((l) => l.raw.text) };
}

/** The first field that differs, described, or undefined when all match. */
export function fieldMismatch(line: TspLine, fields: ExpectedFields): string | undefined {
  for (const [key, want] of Object.entries(fields)) {
    const got = line.fields[key];
    if (want === null) {
      if (got !== undefined) return `${key}=${line.written[key]} is there`;
      continue;
    }
    if (got === undefined) return `no ${key}=`;
    if (
      typeof want === 'string'
        ? got !== want
        : want instanceof RegExp
          ? !want.test(got)
          : line.written[key] !== want.written
    )
      return `${key}=${line.written[key]}`;
  }
  return undefined;
}

/** The final line is `OK` with these fields. */
export function expectOk(x: ProbeExchange, fields: ExpectedFields = {}, what = ''): TspLine {
  const { final } = x;
  const expected = `OK${Object.keys(fields).length > 0 ? ` ${describeFields(fields)}` : ''}`;
  if (final.kind !== 'ok')
    throw new CheckFailure(`${what ? `${what}: ` : ''}expected ${expected}`, {
      expected,
      got: showBytes(final.raw.text),
      ...context(x),
    });
  const mismatch = fieldMismatch(final, fields);
  if (mismatch)
    throw new CheckFailure(`${what ? `${what}: ` : ''}expected ${expected}, got ${mismatch}`, {
      expected,
      got: showBytes(final.raw.text),
      ...context(x),
    });
  return final;
}

/** The final line is `ERR code=… reason=…` with these fields. */
export function expectErr(
  x: ProbeExchange,
  code: number,
  reason: string,
  fields: ExpectedFields = {},
  what = '',
): TspLine {
  const { final } = x;
  const expected = `ERR code=${code} reason=${reason}${Object.keys(fields).length > 0 ? ` ${describeFields(fields)}` : ''}`;
  const prefix = what ? `${what}: ` : '';
  if (final.kind !== 'err' || final.fields.code !== String(code) || final.fields.reason !== reason)
    throw new CheckFailure(`${prefix}expected ${expected}`, {
      expected,
      got: showBytes(final.raw.text),
      ...context(x),
    });
  const mismatch = fieldMismatch(final, fields);
  if (mismatch)
    throw new CheckFailure(`${prefix}expected ${expected}, got ${mismatch}`, {
      expected,
      got: showBytes(final.raw.text),
      ...context(x),
    });
  return final;
}

/** `ERR code=…` with any reason of that code; code 0 is `OK`. */
export function expectCode(x: ProbeExchange, code: number, what = ''): TspLine {
  const { final } = x;
  if (code === 0) return expectOk(x, {}, what);
  if (final.kind !== 'err' || final.fields.code !== String(code))
    throw new CheckFailure(`${what ? `${what}: ` : ''}expected ERR code=${code}`, {
      expected: `ERR code=${code}`,
      got: showBytes(final.raw.text),
      ...context(x),
    });
  return final;
}

/** A condition the check states in its own words. */
export function expectThat(
  condition: boolean,
  message: string,
  detail: { expected?: string; got?: string; x?: ProbeExchange } = {},
): asserts condition {
  if (condition) return;
  throw new CheckFailure(message, {
    expected: detail.expected,
    got: detail.got,
    ...(detail.x && context(detail.x)),
  });
}

/** The reply has exactly these lines, byte for byte (a replay, §8). */
export function expectSameLines(first: ProbeExchange, again: ProbeExchange, message: string): void {
  const a = first.lines.map((l) => l.raw.text);
  const b = again.lines.map((l) => l.raw.text);
  if (a.length === b.length && a.every((line, i) => line === b[i])) return;
  throw new CheckFailure(message, {
    expected: a.map((l) => showBytes(l)).join(' | '),
    got: b.map((l) => showBytes(l)).join(' | '),
    sent: again.request,
    received: b,
  });
}
