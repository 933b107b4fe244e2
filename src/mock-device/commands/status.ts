/**
 * STATUS, to anyone (D18 field order): state login must_change locked [attempts_left] tamper
 * factory_pw [merchant terminal name]. `factory_pw` tells a tool which password to try without
 * spending an attempt.
 */
import type { FieldList } from '../../protocol/index.js';
import { attemptsLeft, isLocked } from '../lockout.js';
import { factoryPasswordAccounts } from '../state.js';
import { mustChange } from './authorize.js';
import { type CommandHandler, ok } from './context.js';

export const status: CommandHandler = {
  run({ core, session }) {
    const { state } = core;
    const now = core.clock.now();
    const fields: [string, string | number][] = [
      ['state', state.binding ? 'initialized' : 'factory'],
      ['login', session.login?.user ?? 'none'],
      ['must_change', mustChange(state, session.login) ? 1 : 0],
      ['locked', isLocked(state, now) ? 1 : 0],
    ];
    const left = attemptsLeft(state, now);
    if (left !== undefined) fields.push(['attempts_left', left]);
    const factory = factoryPasswordAccounts(state);
    fields.push(
      ['tamper', state.hardware.tamper ? 1 : 0],
      ['factory_pw', factory.length > 0 ? factory.join(',') : 'none'],
    );
    if (state.binding) {
      fields.push(
        ['merchant', state.binding.merchant],
        ['terminal', state.binding.terminal],
        ['name', state.binding.name],
      );
    }
    return ok(fields as FieldList);
  },
};
