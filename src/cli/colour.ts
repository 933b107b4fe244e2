/**
 * Whether a stream gets colour (docs/cli.md, "Colour"): decided for each stream on its own, so
 * `posbridge diag 2>log` keeps colour on the screen and none in the file, and the reverse.
 * Order: `--no-color`, then FORCE_COLOR (Node's rule: it wins over NO_COLOR; `0` or `false`
 * turns colour off), then NO_COLOR (set and not empty, no-color.org), then TERM=dumb, then
 * whether the stream is a terminal.
 */
export interface ColourStream {
  isTTY?: boolean;
}

export function colourEnabled(stream: ColourStream, env: NodeJS.ProcessEnv, noColorFlag = false): boolean {
  if (noColorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const COLOURS = { green: 32, yellow: 33, red: 31, dim: 2, bold: 1, cyan: 36 } as const;
export type Colour = keyof typeof COLOURS;
export type Paint = (colour: Colour, text: string) => string;

export function paintFor(enabled: boolean): Paint {
  return (colour, text) => (enabled ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text);
}
