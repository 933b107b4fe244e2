/**
 * What a provisioning run reads of a profile (profile.ts validates it at the boundary): the
 * settings in their canonical form, the permissions in table order. Apart from the schema so the
 * engine loads without zod or YAML; only commands that read a profile file load those.
 */
import { parsePermissions, SETTINGS, type SettingKey } from '../../protocol/index.js';
import type { Profile } from './profile.js';

/** Normalized settings in table order, as strings. */
export function desiredSettings(profile: Profile): Array<[SettingKey, string]> {
  return Object.entries(profile.settings).map(([key, value]) => {
    const settingKey = key as SettingKey;
    return [settingKey, SETTINGS[settingKey].parse(String(value)) ?? String(value)];
  });
}

export function canonicalPerms(perms: readonly string[]): string[] {
  return parsePermissions(perms.join(',')) ?? [...perms];
}
