/** colour.ts: which stream gets colour, under which flag and variables (docs/cli.md, "Colour"). */
import { describe, expect, it } from 'vitest';
import { colourEnabled } from '../../src/cli/colour.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('colourEnabled', () => {
  it('a terminal gets colour, a pipe or file does not', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
  });
  it('--no-color wins over everything, FORCE_COLOR included', () => {
    expect(colourEnabled(tty, {}, true)).toBe(false);
    expect(colourEnabled(tty, { FORCE_COLOR: '1' }, true)).toBe(false);
  });
  it('NO_COLOR set and not empty turns it off; empty does not (no-color.org)', () => {
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true);
  });
  it('TERM=dumb turns it off', () => {
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled(tty, { TERM: 'xterm-256color' })).toBe(true);
  });
  it('FORCE_COLOR turns it on for a pipe and over NO_COLOR and TERM=dumb (as Node does); 0 and false turn it off', () => {
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1', TERM: 'dumb' })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
  });
});
