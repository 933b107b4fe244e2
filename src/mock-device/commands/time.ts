/**
 * TIME reads or sets the terminal's clock (UTC, whole seconds). The clock is the host clock plus
 * an offset that TIME sets; it keeps running from the instant given (D16). RESET keeps it, and so
 * does REBOOT (D49).
 */
import { isUtcInRange, parseUtc } from '../../protocol/index.js';
import { asciiArg } from './args.js';
import { type CommandHandler, fail, ok } from './context.js';

export const time: CommandHandler = {
  run({ core, request }) {
    if (request.args.has('utc')) {
      const text = asciiArg(request, 'utc');
      const utc = text === undefined ? undefined : parseUtc(text);
      if (utc === undefined) return fail('invalid-value', { key: 'utc' }, 'utc must be YYYY-MM-DDTHH:MM:SSZ');
      // D48: a terminal may refuse times outside 2000-2099; the mock does, so hosts are tested on it.
      if (!isUtcInRange(utc)) return fail('invalid-value', { key: 'utc' }, 'utc must be from 2000 to 2099');
      core.state.clock = { offsetMs: Math.round(utc - core.clock.now()), set: true };
      core.commit();
    }
    return ok('TIME', { utc: core.terminalNow() });
  },
};
