/**
 * Protocol violations, for testing hosts and conformance suites: `violate:rule=NAME` makes the
 * mock break one rule of docs/protocol.md on purpose, the way a faulty terminal would. The other
 * faults model a bad cable or a busy device, which a conforming terminal also meets; these model
 * a terminal that is wrong. `posbridge conformance` must fail each of them (test/integration,
 * conformance-violations), and a host can check what it does with a terminal that is.
 *
 * Rules that only change what goes out are done here, on the outgoing lines; the others are
 * consulted by the engine at the one place each rule is decided (`violates(rule)`).
 */
import { appendCrc, splitCrc } from '../../protocol/index.js';
import type { MockBehaviour } from '../behaviour.js';

/** Every violation, with what the terminal then does wrong (docs/mock.md lists them). */
export const VIOLATIONS = {
  'no-crc-data': 'DATA lines carry no CRC, even when the request had one (§6.3)',
  'crc-never': 'no reply line carries a CRC, whatever the request had (§6.3)',
  'crc-always': 'every reply line carries a CRC, whatever the request had (§6.3)',
  'no-id-echo': 'reply lines carry no ID (§7)',
  'id-in-413': 'a 413 carries the ID of the last request read (§3, D3)',
  'long-replies': 'every ERR has a msg that makes the line longer than 512 bytes (§3, D47)',
  'no-boot-event': 'no EVT boot after a restart (§9)',
  'cr-not-terminator': 'a CR alone does not end a line; only LF does (§3)',
  'no-replay': 'no replay cache: a retransmission is executed again (§8)',
  'replay-rejections': 'replies 400 and 460 are stored for replay too (§8)',
  'auth-before-unknown': 'without a login, an unknown verb is 401, not 404 (§10)',
  'value-before-auth': 'GET and SET check the key before the login: 422 before 401 and 428 (§10)',
  'lockout-never-locks': 'failures are counted, but reaching lockout.max never locks (§13)',
  'failures-not-counted': 'failed attempts are not counted (§13)',
  'lock-never-ends': 'a lock lasts until RESET, whatever lockout.seconds says (§13)',
  'weak-straight-run': 'the password policy accepts straight runs such as 234567 (§14)',
  'weak-known-default': 'the password policy accepts the known POS defaults (§14)',
  'diag-repeats-first': 'DIAG checks repeats before unknown names (D36)',
  'settle-account-clear': 'GET and SET show settle.account in clear (§16)',
  'reset-keeps-logins': 'RESET leaves every login in place (§15 RESET)',
} as const;

export type Violation = keyof typeof VIOLATIONS;
export const VIOLATION_NAMES = Object.keys(VIOLATIONS) as Violation[];

export function isViolation(name: string): name is Violation {
  return Object.hasOwn(VIOLATIONS, name);
}

const ID_PREFIX = /^@([0-9]+) /;

export function violate(rule: Violation): MockBehaviour {
  const name = `violate:rule=${rule}`;
  switch (rule) {
    case 'no-crc-data':
      return {
        name,
        violates: rule,
        onLine: (_c, line) =>
          line.kind === 'reply' && /^(@[0-9]+ )?DATA /.test(line.text)
            ? [{ ...line, text: withoutCrc(line.text) }]
            : undefined,
      };
    case 'crc-never':
      return {
        name,
        violates: rule,
        onLine: (_c, line) =>
          line.kind === 'reply' ? [{ ...line, text: withoutCrc(line.text) }] : undefined,
      };
    case 'crc-always':
      return {
        name,
        violates: rule,
        onLine: (_c, line) =>
          line.kind === 'reply' && !splitCrc(line.text)
            ? [{ ...line, text: appendCrc(line.text) }]
            : undefined,
      };
    case 'no-id-echo':
      return {
        name,
        violates: rule,
        onLine: (_c, line) =>
          line.kind === 'reply'
            ? [{ ...line, text: rewrite(line.text, (t) => t.replace(ID_PREFIX, '')) }]
            : undefined,
      };
    case 'id-in-413': {
      const lastId = new Map<number, string>();
      return {
        name,
        violates: rule,
        onRequest: ({ connection, request }) => {
          if (request.id !== undefined) lastId.set(connection.id, request.id);
          return undefined;
        },
        onLine: (connection, line) => {
          const id = lastId.get(connection.id);
          return line.kind === 'reply' && id !== undefined && line.text.startsWith('ERR code=413 ')
            ? [{ ...line, text: `@${id} ${line.text}` }]
            : undefined;
        },
      };
    }
    case 'long-replies':
      return {
        name,
        violates: rule,
        onLine: (_c, line) =>
          line.kind === 'reply' && /^(@[0-9]+ )?ERR /.test(line.text)
            ? [{ ...line, text: rewrite(line.text, (t) => `${t} msg="${'x'.repeat(520)}"`) }]
            : undefined,
      };
    case 'no-boot-event':
      return {
        name,
        violates: rule,
        onLine: (_c, line) => (line.kind === 'event' && line.text.startsWith('EVT boot') ? [] : undefined),
      };
    default:
      // Decided by the engine where the rule applies.
      return { name, violates: rule };
  }
}

function withoutCrc(text: string): string {
  return splitCrc(text)?.body ?? text;
}

/** Changes a line's body and gives it back its CRC (recomputed) if it had one. */
function rewrite(text: string, change: (body: string) => string): string {
  const crc = splitCrc(text);
  return crc ? appendCrc(change(crc.body)) : change(text);
}
