/** Faults as behaviours: from a spec (parsed or built in TypeScript) to the behaviours that do it. */
import type { MockBehaviour } from '../behaviour.js';
import { createRandom, deriveSeed, type Random } from '../prng.js';
import { busyFor } from './busy.js';
import { corruptLines } from './corrupt.js';
import { delayReplies } from './delay.js';
import { dropReplies } from './drop.js';
import { rebootAt } from './reboot-at.js';
import { silentAfter } from './silent-after.js';
import { type FaultSpec, formatFault, parseFaultSpec, validateFault } from './spec.js';
import { spuriousEvents } from './spurious-events.js';
import { violate } from './violate.js';

export { flipOneBit } from './corrupt.js';
export { FAULT_KINDS, FAULTS, type FaultKind, type FaultSpec, formatFault, parseFaultSpec } from './spec.js';
export { isViolation, VIOLATION_NAMES, VIOLATIONS, type Violation } from './violate.js';
export { busyFor, corruptLines, delayReplies, dropReplies, rebootAt, silentAfter, spuriousEvents, violate };

/**
 * One behaviour per fault. Each random fault draws from its own generator, seeded from `seed`,
 * the fault and its position, so adding a fault does not change when another one strikes.
 */
export function createFaultBehaviours(faults: string | readonly FaultSpec[], seed: number): MockBehaviour[] {
  const specs = typeof faults === 'string' ? parseFaultSpec(faults) : faults.map(validateFault);
  return specs.map((fault, index) =>
    build(fault, createRandom(deriveSeed(seed, `${index}:${formatFault(fault)}`))),
  );
}

function build(fault: FaultSpec, random: Random): MockBehaviour {
  switch (fault.kind) {
    case 'corrupt':
      return corruptLines(fault.p, random);
    case 'drop':
      return dropReplies(fault.p, random);
    case 'delay':
      return delayReplies(fault.ms, fault.p, random);
    case 'silent-after':
      return silentAfter(fault.bytes, fault.direction);
    case 'reboot-at':
      return rebootAt(fault.n, fault.execute);
    case 'busy':
      return busyFor(fault.ms, fault.n);
    case 'spurious-evt':
      return spuriousEvents(fault.p, random, fault.name);
    case 'violate':
      return violate(fault.rule);
  }
}
