/** A slow terminal: with probability p (default 1) a reply's lines wait `ms` before the wire. */
import type { MockBehaviour } from '../behaviour.js';
import type { Random } from '../prng.js';

export function delayReplies(ms: number, p: number, random: Random): MockBehaviour {
  return {
    name: `delay:ms=${ms}${p === 1 ? '' : `,p=${p}`}`,
    onRequest: () => (p >= 1 || random.chance(p) ? { delayMs: ms } : undefined),
  };
}
