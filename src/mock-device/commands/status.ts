/**
 * STATUS, to anyone (D18 field order, kept by the command table's shape): state login
 * must_change locked [attempts_left] tamper factory_pw [merchant terminal name]. `factory_pw` tells
 * a tool which password to try without spending an attempt.
 */
import { attemptsLeft, isLocked } from '../lockout.js';
import { factoryPasswordAccounts } from '../state.js';
import { mustChange } from './authorize.js';
import { type CommandHandler, ok } from './context.js';

export const status: CommandHandler = {
  run({ core, session }) {
    const { state } = core;
    const { binding } = state;
    const now = core.clock.now();
    return ok('STATUS', {
      state: binding ? 'initialized' : 'factory',
      login: session.login?.user ?? 'none',
      mustChange: mustChange(state, session.login),
      locked: isLocked(state, now),
      attemptsLeft: attemptsLeft(state, now),
      tamper: state.hardware.tamper,
      factoryPw: factoryPasswordAccounts(state),
      ...(binding && { merchant: binding.merchant, terminal: binding.terminal, name: binding.name }),
    });
  },
};
