/**
 * How the mock keeps passwords: salted SHA-256, so a state file never holds one in clear (the
 * non-negotiable "secrets never appear" covers CI artifacts too). A real terminal would use a slow
 * KDF; a mock's flash does not need to resist cracking, only to stay secret-free.
 */
import { createHash } from 'node:crypto';
import type { Random } from './prng.js';

export interface StoredPassword {
  /** 16 hex digits. */
  salt: string;
  /** Hex SHA-256 of salt ":" password. */
  hash: string;
}

export function hashPassword(password: string, random: Random): StoredPassword {
  let salt = '';
  for (let i = 0; i < 16; i++) salt += random.int(16).toString(16);
  return { salt, hash: digest(salt, password) };
}

export function verifyPassword(password: string, stored: StoredPassword): boolean {
  return digest(stored.salt, password) === stored.hash;
}

function digest(salt: string, password: string): string {
  return createHash('sha256').update(`${salt}:`).update(password, 'latin1').digest('hex');
}
