/**
 * How a replay compares and re-addresses lines.
 *
 * A host line matches a traced one when both read the same once the parts that legitimately differ
 * from run to run are set aside: the `@ID` (a host picks its first ID at random), the ` *CRC` (it
 * covers the ID), secrets (the trace holds `password="***"`; the live line is masked the same way
 * before comparing) and the volatile values of VOLATILE_FIELDS (`TIME utc=`, the host's clock).
 *
 * A recorded terminal line is sent with the ID the live host used for the recorded one, and with a
 * CRC by the mirror rule (docs/protocol.md 6.3): when the live host's line had one, never on a 413.
 * A recorded line whose CRC did not match (damaged on the wire) is sent damaged the same way.
 */
import { appendCrc, crc16, formatCrc, readLeadingId, splitCrc, traceText } from '../../protocol/index.js';

/** Values a host writes differently on every run, by verb: compared as `key=*`. */
export const VOLATILE_FIELDS: Readonly<Record<string, readonly string[]>> = { TIME: ['utc'] };

/** A wire line as a trace shows it: non-printable bytes escaped, secrets masked. */
export const tracedForm = traceText;

const LEADING_ID = /^( *@)([0-9]{1,8})( +)/;

/** What a replay compares of a host line (given in traced form): no ID, no CRC, volatile values blanked. */
export function matchKey(traced: string): string {
  const crc = splitCrc(traced);
  let body = (crc ? crc.body : traced).replace(LEADING_ID, '').trim();
  const verb = /^[A-Za-z][A-Za-z0-9-]*/.exec(body)?.[0].toUpperCase();
  for (const key of (verb !== undefined && VOLATILE_FIELDS[verb]) || []) {
    body = body.replace(new RegExp(`(^| )${key}=("(?:[^"\\\\]|\\\\.)*"|[^ ]*)`, 'g'), `$1${key}=*`);
  }
  return body;
}

/** The `@ID` a line starts with, if any (as a terminal would read it). */
export function leadingId(text: string): string | undefined {
  return readLeadingId(text);
}

export interface Readdress {
  /** The live ID for a recorded one (undefined: keep it). */
  mapId(recorded: string): string | undefined;
  /** The live host's line had a CRC: reply lines carry one (a 413 never does). */
  crc: boolean;
  /** A last change to the line (ID already mapped), before its CRC is computed. */
  rewrite?: ((line: string) => string) | undefined;
}

const TOO_LONG_NOTE = /^\[([0-9]+) bytes without a line end, discarded\]$/;

/**
 * A recorded terminal line, ready to send: re-IDed, CRC by the mirror rule. The daemon traces a
 * line too long as a note (`[600 bytes without a line end, discarded]`): it is sent as that many
 * bytes, so the host meets the same problem.
 */
export function readdress(recorded: string, how: Readdress): string {
  const tooLong = TOO_LONG_NOTE.exec(recorded);
  if (tooLong) return 'X'.repeat(Number(tooLong[1]));
  const split = splitCrc(recorded);
  const body = split ? split.body : recorded;
  let live = body;
  const id = LEADING_ID.exec(body);
  if (id) {
    const to = how.mapId(id[2]!);
    if (to !== undefined) live = `${id[1]}${to}${id[3]}${body.slice(id[0].length)}`;
  }
  if (how.rewrite) live = how.rewrite(live);
  if (split && crc16(split.body) !== split.crc) {
    // Damaged on the wire: keep the damage (the same difference from the right CRC).
    const syndrome = split.crc ^ crc16(body);
    return `${live} *${formatCrc(crc16(live) ^ syndrome)}`;
  }
  if (!how.crc || /^ *ERR code=413 /.test(live)) return live;
  return appendCrc(live);
}

const UTC_FIELD = /(^| )utc=([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)(?= |$)/;

/**
 * A recorded TIME reply re-timed for a live host: a terminal's clock reading is only meaningful
 * against the host's clock, so the replay keeps the recorded *offset* (`utc` minus the time the
 * line was traced) and applies it to `now`. A terminal found 3 h off in the field is 3 h off on
 * the desk; one in sync stays in sync. Lines without a `utc=` field are returned unchanged.
 */
export function retimeUtc(line: string, tracedAt: number, now: number): string {
  const match = UTC_FIELD.exec(line);
  if (!match || !/^ *(@[0-9]+ +)?OK /.test(line)) return line;
  const offset = Date.parse(match[2]!) - tracedAt;
  const live = new Date(Math.round((now + offset) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return line.replace(UTC_FIELD, `$1utc=${live}`);
}
