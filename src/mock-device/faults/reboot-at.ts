/**
 * A terminal that reboots in the middle of a command (a brown-out, a watchdog): the nth request
 * read by the terminal (all connections) never gets a reply. With `execute` (the default) the
 * command has run and its changes are in flash when the terminal goes down: the sender cannot
 * tell from the silence whether it ran, and must read the state back after `EVT boot`.
 */
import type { MockBehaviour } from '../behaviour.js';

export function rebootAt(n: number, execute = true): MockBehaviour {
  return {
    name: `reboot-at:n=${n}${execute ? '' : ',exec=0'}`,
    onRequest: (info) => (info.seq === n ? { reboot: execute ? 'after' : 'before' } : undefined),
  };
}
