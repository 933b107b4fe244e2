/**
 * A hostile terminal: the faithful mock with a behaviour that rewrites the fields of the lines it
 * sends (CRC recomputed, so the host takes them as genuine). Tests put control sequences in a
 * model, a firmware version, a hint or a message, or make the terminal echo a password.
 */
import type { MockBehaviour } from '../../src/mock-device/index.js';
import { encodeLine, parseLine, type Request } from '../../src/protocol/index.js';

/** Terminal text that would retitle, clear and recolour a screen, or reorder what it shows. */
export const HOSTILE = {
  /** OSC 0: sets the window title. */
  title: '\u001b]0;pwned\u0007',
  /** ED 2 and cursor home: clears the screen. */
  clear: '\u001b[2J\u001b[H',
  /** SGR: red on the technician's screen. */
  colour: '\u001b[31m',
  /** A one-character CSI (C1), then clear screen. */
  c1: '\u009b2J',
  /** Right-to-left override: text shown reversed. */
  bidi: '\u202eOK',
  /** DEL. */
  del: '\u007f',
} as const;

export const HOSTILE_TEXT = `${HOSTILE.title}${HOSTILE.clear}${HOSTILE.colour}${HOSTILE.c1}${HOSTILE.bidi}${HOSTILE.del}`;

/** Any of the raw characters a hostile text holds: none may reach stdout or stderr. */
export const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export type LineEdit = (
  words: readonly string[],
  fields: Map<string, string | Uint8Array>,
  request: Request | undefined,
) => void;

/** The mock, rewriting each reply and event line it sends with `edit` (the last request is given). */
export function rewriteLines(edit: LineEdit): MockBehaviour {
  let last: Request | undefined;
  return {
    name: 'hostile-terminal',
    onRequest(info) {
      last = info.request;
      return undefined;
    },
    onLine(_connection, line) {
      const parsed = parseLine(line.text);
      if (!parsed.ok) return undefined;
      const fields = new Map<string, string | Uint8Array>(parsed.line.fields.map((f) => [f.key, f.value]));
      edit(parsed.line.words, fields, last);
      const text = encodeLine({
        id: parsed.line.id,
        words: parsed.line.words,
        fields: [...fields],
        crc: parsed.line.crc,
      });
      return [{ ...line, text }];
    },
  };
}

/** HELLO's model and fw, STATUS's name, DIAG's hints and codes, and every ERR's msg hold `text`. */
export function hostileTerminal(text = HOSTILE_TEXT): MockBehaviour {
  return rewriteLines((words, fields) => {
    const [kind] = words;
    if (kind === 'OK' && fields.has('model')) {
      fields.set('model', `PB${text}`);
      fields.set('fw', `1.0${text}`);
    }
    if (kind === 'OK' && fields.has('name') && fields.has('merchant')) fields.set('name', `Shop${text}`);
    if (kind === 'DATA' && fields.has('check') && fields.has('hint')) {
      fields.set('hint', `load paper${text}`);
      fields.set('code', `paper_out${text}`);
    }
    if (kind === 'DATA' && fields.has('id') && fields.has('perms')) fields.set('name', `Ann${text}`);
    if (kind === 'ERR') fields.set('msg', `refused${text}`);
  });
}
