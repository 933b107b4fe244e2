/**
 * Unsolicited events the host did not expect: with probability p, before an outgoing line, an
 * `EVT <name> seq=K` (default name `noise`, unknown to TSP/1). A receiver must accept events
 * between any two lines of a reply and ignore names it does not know.
 */
import { encodeEvent } from '../../protocol/index.js';
import type { MockBehaviour } from '../behaviour.js';
import type { Random } from '../prng.js';

export function spuriousEvents(p: number, random: Random, name = 'noise'): MockBehaviour {
  let seq = 0;
  return {
    name: `spurious-evt:p=${p}${name === 'noise' ? '' : `,name=${name}`}`,
    onLine(connection, line) {
      if (!random.chance(p)) return undefined;
      seq++;
      return [{ kind: 'event', text: encodeEvent(name, [['seq', seq]], connection.crc) }, line];
    },
  };
}
