/**
 * A terminal busy with something else (a settlement, a key download): from the nth request on,
 * for `ms`, every request gets `ERR code=503 reason=busy` and is not executed. Once.
 */
import type { MockBehaviour } from '../behaviour.js';

export function busyFor(ms: number, n = 1): MockBehaviour {
  let startedAt: number | undefined;
  return {
    name: `busy:ms=${ms}${n === 1 ? '' : `,n=${n}`}`,
    onRequest(info) {
      if (startedAt === undefined && info.seq >= n) startedAt = info.now;
      return startedAt !== undefined && info.now < startedAt + ms ? { busy: true } : undefined;
    },
  };
}
