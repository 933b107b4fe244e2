/**
 * Line noise: with probability p an outgoing line (reply or event) gets one bit of one byte
 * flipped. A flip that would make a CR or LF uses bit 7 instead, so a corrupted line stays one
 * line (a receiver sees a bad CRC, a non-ASCII byte, or, without CRC, a silently wrong value:
 * which is why TSP/1 has CRCs).
 */
import type { MockBehaviour } from '../behaviour.js';
import type { Random } from '../prng.js';

export function corruptLines(p: number, random: Random): MockBehaviour {
  return {
    name: `corrupt:p=${p}`,
    onLine(_connection, line) {
      if (line.text.length === 0 || !random.chance(p)) return undefined;
      return [{ ...line, text: flipOneBit(line.text, random) }];
    },
  };
}

export function flipOneBit(text: string, random: Random): string {
  const at = random.int(text.length);
  const code = text.charCodeAt(at);
  let flipped = code ^ (1 << random.int(8));
  if (flipped === 0x0a || flipped === 0x0d) flipped = code ^ 0x80;
  return text.slice(0, at) + String.fromCharCode(flipped) + text.slice(at + 1);
}
