/**
 * GET and SET of the settings table (src/protocol/settings.ts). Unknown keys are 422 unknown-key
 * echoing the key (cut to 64); a value breaking the setting's rule is 422 invalid-value naming the
 * setting. Write-only settings (settle.account) are answered masked, in SET's reply too.
 */
import {
  isSettingKey,
  SETTINGS,
  type SettingKey,
  type SettingSpec,
  showSetting,
} from '../../protocol/index.js';
import { asciiArg, echoArg, textArg } from './args.js';
import { type CommandContext, type CommandHandler, type Final, fail, ok } from './context.js';

function settingKey(ctx: CommandContext): SettingKey | Final {
  const key = asciiArg(ctx.request, 'key');
  if (key === undefined || !isSettingKey(key))
    return fail('unknown-key', { key: echoArg(ctx.request, 'key') });
  return key;
}

function reply(ctx: CommandContext, verb: 'GET' | 'SET', key: SettingKey): Final {
  const stored = ctx.core.state.settings[key];
  // violate:rule=settle-account-clear shows the write-only account as stored.
  const shown = ctx.core.violates('settle-account-clear') ? stored : showSetting(key, stored);
  return ok(verb, { key, value: shown });
}

/** violate:rule=value-before-auth: the key is looked up before the login is checked. */
function keyBeforeLogin(ctx: CommandContext): Final | undefined {
  if (!ctx.core.violates('value-before-auth')) return undefined;
  const key = settingKey(ctx);
  return typeof key === 'string' ? undefined : key;
}

export const get: CommandHandler = {
  precheck: keyBeforeLogin,
  run(ctx) {
    const key = settingKey(ctx);
    return typeof key === 'string' ? reply(ctx, 'GET', key) : key;
  },
};

export const set: CommandHandler = {
  precheck: keyBeforeLogin,
  run(ctx) {
    const key = settingKey(ctx);
    if (typeof key !== 'string') return key;
    const spec: SettingSpec = SETTINGS[key];
    const value = textArg(ctx.request, 'value');
    const stored = value.given && value.text !== undefined ? spec.parse(value.text) : undefined;
    if (stored === undefined) return fail('invalid-value', { key }, `${key}: ${spec.rule}`);
    ctx.core.state.settings[key] = stored;
    ctx.core.commit();
    return reply(ctx, 'SET', key);
  },
};
