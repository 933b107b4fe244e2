/**
 * Waiting for a terminal to come back after REBOOT. The watch starts before REBOOT is sent: the
 * `EVT boot` may overtake a lost OK, and then it alone proves that the reboot ran (docs/protocol.md
 * §18: REBOOT is never sent twice across a restart).
 */

import type { TimerHandle, Timers } from '../protocol/index.js';
import { PosbridgeError } from './errors.js';
import type { Session } from './session.js';

export interface BootWatch {
  /** `EVT boot` has arrived since the watch started. */
  readonly booted: boolean;
  /**
   * Resolves at `EVT boot` (at once if it came already); rejects with TIMEOUT after `timeoutMs`,
   * or as the session does when the link ends (DISCONNECTED, CLOSED).
   */
  wait(timeoutMs: number): Promise<void>;
  /** Stops listening and cancels the timer. */
  stop(): void;
}

export function watchForBoot(session: Session, timers: Timers): BootWatch {
  let booted = false;
  let resolveBoot!: () => void;
  const boot = new Promise<void>((resolve) => {
    resolveBoot = resolve;
  });
  const offEvent = session.onEvent((event) => {
    if (event.name !== 'boot') return;
    booted = true;
    resolveBoot();
  });
  let timer: TimerHandle | undefined;
  let offClose = (): void => {};
  return {
    get booted() {
      return booted;
    },
    wait(timeoutMs) {
      if (booted) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        timer = timers.setTimeout(() => {
          reject(
            new PosbridgeError(
              'TIMEOUT',
              `${session.name}: the terminal did not come back within ${timeoutMs} ms`,
              {
                hint: 'Check that the terminal restarted (power, display); run posbridge info once it is up.',
                details: { port: session.name, verb: 'REBOOT' },
              },
            ),
          );
        }, timeoutMs);
        offClose = session.onClose(reject);
        boot.then(resolve);
      });
    },
    stop() {
      offEvent();
      offClose();
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
