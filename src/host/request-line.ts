/**
 * A request's line: its arguments checked against the command table (known keys, required ones,
 * the 512-byte limit at the widest ID) before anything is queued, and the line written with its
 * ID and CRC. Secret values are revealed here only, into the line for the transport.
 */
import { COMMANDS, type CommandSpec, encodeLine, MAX_LINE_BYTES, type Verb } from '../protocol/index.js';
import { PosbridgeError } from './errors.js';
import { Secret } from './secret.js';
import { type ArgValue, MAX_REQUEST_ID, type RequestArgs } from './session-types.js';

/** ` *XXXX`: what appendCrc adds to a line. */
const CRC_SUFFIX_LENGTH = 6;

/** The arguments to send, in order (undefined values left out); throws USAGE or INVALID_VALUE. */
export function checkArgs(verb: Verb, args: RequestArgs): Array<readonly [string, ArgValue]> {
  const spec: CommandSpec = COMMANDS[verb];
  const entries: Array<readonly [string, ArgValue]> = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(spec.args, key)) {
      throw new PosbridgeError('USAGE', `${verb} takes no argument ${key}`, { details: { verb, key } });
    }
    entries.push([key, value]);
  }
  for (const [key, arg] of Object.entries(spec.args)) {
    if (arg.required && !entries.some(([k]) => k === key)) {
      throw new PosbridgeError('USAGE', `${verb} needs ${key}=`, { details: { verb, key } });
    }
  }
  // Worst case ID width: the line must fit whatever ID it gets. (Its CRC is always 6 characters:
  // not computed here, the line is encoded again with its real ID when it is sent.)
  const length = encodeRequest(verb, String(MAX_REQUEST_ID), entries, false).length + CRC_SUFFIX_LENGTH;
  if (length > MAX_LINE_BYTES) {
    throw new PosbridgeError(
      'INVALID_VALUE',
      `${verb} request would be ${length} bytes, over the TSP/1 limit of ${MAX_LINE_BYTES}`,
      { hint: 'Shorten the values (names, addresses).', details: { verb, length } },
    );
  }
  return entries;
}

export function encodeRequest(
  verb: Verb,
  id: string,
  args: ReadonlyArray<readonly [string, ArgValue]>,
  crc = true,
): string {
  return encodeLine({
    id,
    words: [verb],
    fields: args.map(([key, value]) => [key, value instanceof Secret ? value.reveal() : value] as const),
    crc,
  });
}
