/**
 * REBOOT answers OK and goes down right after it (503 not-ready while down, then `EVT boot` to
 * every connection; logins and replay caches gone, flash kept). RESET `confirm=<sn>` restores
 * factory state except the clock (and hardware faults, which a reset cannot repair), ends every
 * login, clears the replay caches and sends `EVT state state=factory`.
 */
import { asciiArg } from './args.js';
import { type CommandHandler, fail, ok } from './context.js';

export const reboot: CommandHandler = {
  run(ctx) {
    ctx.afterReply(() => ctx.core.reboot());
    return ok('REBOOT');
  },
};

export const reset: CommandHandler = {
  run(ctx) {
    const { core } = ctx;
    if (asciiArg(ctx.request, 'confirm') !== core.state.identity.sn) {
      return fail('invalid-value', { key: 'confirm' }, 'confirm must be the serial number');
    }
    core.resetToFactory();
    ctx.afterReply(() => {
      if (!core.violates('reset-keeps-logins')) core.endLogins(() => true);
      core.clearReplayCaches();
      core.broadcast('state', { state: 'factory' });
    });
    return ok('RESET');
  },
};
