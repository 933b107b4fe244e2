/** What the error checks share: a raw line's expected ERR, a damaged CRC, a good new password. */
import { crc16, formatCrc } from '../../protocol/index.js';
import type { Ctx } from '../context.js';
import { type ExpectedFields, expectErr } from '../expect.js';
import type { TspLine } from '../lines.js';

export const GOOD_NEW = 'Good.Pw-742';

/** `body` with a CRC that is not its own. */
export function badCrc(body: string): string {
  return `${body} *${formatCrc(crc16(body) ^ 0x00ff)}`;
}

/** Sends `body` as it is and requires `ERR code reason`, with `key=` as given (null: absent). */
export async function raw(
  t: Ctx,
  body: string,
  code: number,
  reason: string,
  what: string,
  key?: string | null,
): Promise<TspLine> {
  const fields: ExpectedFields = key === undefined ? {} : { key };
  return expectErr(await t.exchange(body), code, reason, fields, what);
}
