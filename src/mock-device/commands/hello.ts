/** HELLO: who the terminal is and what it speaks. Another `proto=` still answers `proto=1`. */
import { CAPABILITIES, PROTOCOL_VERSION } from '../../protocol/index.js';
import { type CommandHandler, ok } from './context.js';

export const hello: CommandHandler = {
  run({ core }) {
    const { identity, binding } = core.state;
    return ok('HELLO', {
      proto: PROTOCOL_VERSION,
      model: identity.model,
      sn: identity.sn,
      fw: identity.fw,
      state: binding ? 'initialized' : 'factory',
      caps: CAPABILITIES,
    });
  },
};
