/**
 * A lost reply: with probability p the terminal runs the command and stores its reply for replay,
 * but nothing reaches the wire. This is the case TSP/1's at-most-once replay exists for: the
 * sender's retransmission (same ID, same line) must get the stored reply, not a second execution.
 */
import type { MockBehaviour } from '../behaviour.js';
import type { Random } from '../prng.js';

export function dropReplies(p: number, random: Random): MockBehaviour {
  return {
    name: `drop:p=${p}`,
    onRequest: () => (random.chance(p) ? { dropReply: true } : undefined),
  };
}
