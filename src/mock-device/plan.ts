/**
 * What the behaviours want done with one request (docs/mock.md, "Faults"): the first busy or
 * reboot wins, drops stick, delays add up. A behaviour that throws is logged and ignored.
 */
import type { MockBehaviour, RequestInfo, RequestPlan } from './behaviour.js';
import type { MockLogger } from './logger.js';

export function planRequest(
  behaviours: readonly MockBehaviour[],
  info: RequestInfo & { connection: { label: string } },
  log: MockLogger,
): RequestPlan {
  const { connection } = info;
  const plan: RequestPlan = {};
  for (const behaviour of behaviours) {
    let wish: RequestPlan | undefined;
    try {
      wish = behaviour.onRequest?.(info);
    } catch (error) {
      log.error({ connection: connection.label, behaviour: behaviour.name, err: error }, 'behaviour failed');
    }
    if (!wish) continue;
    if (plan.busy === undefined && plan.reboot === undefined) {
      if (wish.reboot) plan.reboot = wish.reboot;
      else if (wish.busy) plan.busy = true;
    }
    if (wish.dropReply) plan.dropReply = true;
    if (wish.delayMs) plan.delayMs = (plan.delayMs ?? 0) + wish.delayMs;
    log.debug({ connection: connection.label, behaviour: behaviour.name, wish }, 'behaviour');
  }
  if (plan.reboot === 'after') plan.dropReply = true;
  return plan;
}
