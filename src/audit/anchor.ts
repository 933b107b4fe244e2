/**
 * Anchors: a point of the chain (`seq` and `hash` of one row) kept outside the audit file, written
 * `SEQ:HASH` everywhere a person or a program meets one (reports, `history --head`,
 * `--expect-head`, a file of heads, the witness file). The chain proves that nothing before the
 * last row changed; only an anchor kept elsewhere proves that the last rows are still there
 * (see store.ts, "Limits"). Pure: text in, anchors and problems out.
 */
import { GENESIS_HASH } from './schema.js';
import type { ChainAnchor } from './types.js';

const ANCHOR_TEXT = /^(\d{1,15}):([0-9a-fA-F]{64})$/;

/** `57:9f86d08...`: the form every report, file and flag uses. */
export function formatAnchor(anchor: ChainAnchor): string {
  return `${anchor.seq}:${anchor.hash}`;
}

/**
 * `SEQ:HASH` back into an anchor (hash in any case, kept lowercase), or a sentence saying what is
 * wrong with it. Seq 0 is the empty trail and has the genesis hash only.
 */
export function parseAnchor(text: string): ChainAnchor | { problem: string } {
  const match = ANCHOR_TEXT.exec(text.trim());
  if (!match) {
    return {
      problem: `"${text.trim().slice(0, 80)}" is not a head: expected SEQ:HASH, a record number, a colon and 64 hex digits (as \`posbridge history --head\` prints)`,
    };
  }
  const anchor = { seq: Number(match[1]), hash: match[2]!.toLowerCase() };
  if (anchor.seq === 0 && anchor.hash !== GENESIS_HASH)
    return { problem: `"${text.trim().slice(0, 80)}": record 0 is the empty trail, whose hash is all zeros` };
  return anchor;
}

export function isAnchor(value: ChainAnchor | { problem: string }): value is ChainAnchor {
  return 'seq' in value;
}

/** An anchor and where it came from, so that a failure names it (`--expect-head`, `FILE line 3`). */
export interface SourcedAnchor extends ChainAnchor {
  source: string;
}

export interface AnchorLines {
  anchors: SourcedAnchor[];
  /** Lines that are not a head: `line` is 1-based. */
  problems: Array<{ line: number; message: string }>;
  /**
   * The line number of a last line that has no newline and is not a head: a write cut short by
   * a crash or a full disk (the witness writes each line whole, then fsyncs). Not in `problems`:
   * the reader decides.
   */
  tornTail?: number;
}

/**
 * A file of heads, one `SEQ:HASH` per line: blank lines and `#` comments are skipped, and text
 * after the head (whitespace first) is a comment too. `name` prefixes each source (`FILE line N`).
 */
export function parseAnchorLines(text: string, name: string): AnchorLines {
  const result: AnchorLines = { anchors: [], problems: [] };
  const lines = text.split('\n');
  const unterminated = text.endsWith('\n') ? -1 : lines.length - 1;
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const token = line.split(/\s+/)[0]!;
    const parsed = parseAnchor(token);
    if (isAnchor(parsed)) result.anchors.push({ ...parsed, source: `${name} line ${index + 1}` });
    else if (index === unterminated) result.tornTail = index + 1;
    else {
      // Quote the whole line, not its first word, unless the first word alone says more.
      const whole = token === line ? parsed : parseAnchor(line);
      result.problems.push({ line: index + 1, message: isAnchor(whole) ? parsed.problem : whole.problem });
    }
  });
  return result;
}
