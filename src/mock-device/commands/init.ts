/**
 * INIT binds the acquirer's merchant number (15 digits) and terminal number (8 digits), with an
 * optional name (1-40 bytes of UTF-8). Idempotent: the same numbers again answer `changed=0`
 * (`changed=1` when a new name is stored); other numbers are 409 wrong-state. The first INIT sends
 * `EVT state state=initialized` to every connection after its reply.
 */
import { isTextWithin, MERCHANT_NUMBER, TERMINAL_NUMBER } from '../../protocol/index.js';
import { asciiArg, textArg } from './args.js';
import { type CommandHandler, fail, ok } from './context.js';

export const init: CommandHandler = {
  run(ctx) {
    const { core, request } = ctx;
    const merchant = asciiArg(request, 'merchant');
    if (merchant === undefined || !MERCHANT_NUMBER.test(merchant)) {
      return fail('invalid-value', { key: 'merchant' }, 'merchant number must be 15 digits');
    }
    const terminal = asciiArg(request, 'terminal');
    if (terminal === undefined || !TERMINAL_NUMBER.test(terminal)) {
      return fail('invalid-value', { key: 'terminal' }, 'terminal number must be 8 digits');
    }
    const name = textArg(request, 'name');
    if (name.given && (name.text === undefined || !isTextWithin(name.text, 1, 40))) {
      return fail('invalid-value', { key: 'name' }, 'name must be 1 to 40 bytes of UTF-8');
    }
    const { state } = core;
    const newName = name.given ? name.text! : undefined;
    if (state.binding) {
      if (state.binding.merchant !== merchant || state.binding.terminal !== terminal) {
        return fail('wrong-state', {}, 'already initialized with other numbers: RESET first');
      }
      if (newName === undefined || newName === state.binding.name) return done(0);
      state.binding.name = newName;
      core.commit();
      return done(1);
    }
    state.binding = { merchant, terminal, name: newName ?? '' };
    core.commit();
    ctx.afterReply(() => core.broadcast('state', { state: 'initialized' }));
    return done(1);
  },
};

function done(changed: 0 | 1) {
  return ok('INIT', { state: 'initialized', changed: changed === 1 });
}
