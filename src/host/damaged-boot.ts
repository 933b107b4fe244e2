/**
 * Telling a damaged `EVT boot` from a damaged reply. Line noise flips bits; a restart announced on
 * a noisy line must still be taken as a restart (the login and the replay cache are gone), and a
 * damaged reply to us must not be taken for one.
 */

/**
 * Whether a damaged line may be an `EVT boot`: its start reads `EVT boot ` give or take one bit
 * (line noise flips bits; one flip anywhere in the line leaves at most one here). A reply to us
 * always starts with `@ID`, several bits away from it.
 */
export function mayBeDamagedBoot(text: string): boolean {
  const start = text.length === BOOT_START.length - 1 ? BOOT_START.slice(0, -1) : BOOT_START;
  if (text.length < start.length) return false;
  let bits = 0;
  for (let i = 0; i < start.length; i++) {
    let diff = text.charCodeAt(i) ^ start.charCodeAt(i);
    while (diff > 0) {
      bits += diff & 1;
      diff >>= 1;
    }
    if (bits > 1) return false;
  }
  return true;
}

const BOOT_START = 'EVT boot ';
