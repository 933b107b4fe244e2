/**
 * Strong first passwords for operators. 16 characters from an alphabet without look-alikes
 * (no 0/O, 1/l/I), about 94 bits; the terminal makes the operator change it at first login.
 */
import { checkPassword } from '../../protocol/index.js';
import { Secret } from '../secret.js';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-+';
const LENGTH = 16;

/** `randomBytes` is injected (node:crypto's in production, a seeded source in tests). */
export function generatePassword(randomBytes: (n: number) => Uint8Array): Secret {
  for (;;) {
    let password = '';
    // Rejection sampling keeps every character equally likely.
    while (password.length < LENGTH) {
      for (const byte of randomBytes(LENGTH * 2)) {
        const limit = 256 - (256 % ALPHABET.length);
        if (byte < limit && password.length < LENGTH) password += ALPHABET[byte % ALPHABET.length];
      }
    }
    if (checkPassword(password) === undefined) return new Secret(password);
  }
}
