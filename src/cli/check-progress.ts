/**
 * Diagnostic checks shown as they arrive (DIAG answers one DATA line per check, docs/protocol.md
 * §DIAG, and a full run takes seconds): on a terminal, a spinner names the check under way and
 * each result replaces it as a line; elsewhere (a pipe, a CI log), one line per check as it
 * comes, nothing redrawn.
 */
import type { DiagCheckResult } from '../host/workflow/terminal-ops.js';
import type { Paint } from './colour.js';
import { renderCheck } from './render.js';

const FRAMES = ['|', '/', '-', '\\'];
const FRAME_MS = 120;

export interface ProgressTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const SYSTEM_TIMERS: ProgressTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class CheckProgress {
  private readonly pending: string[];
  private frame = 0;
  private timer: unknown;
  private shown = false;
  /** How many results were printed (a caller prints the rest if the terminal sent none early). */
  printed = 0;

  constructor(
    private readonly out: { write(text: string): void },
    /** Redraw in place (a terminal that understands \r and erase-line), else one line per check. */
    private readonly live: boolean,
    private readonly paint: Paint,
    /** The checks expected, in order: the spinner names the next one. */
    expected: readonly string[],
    /** A line written before the first result (not before: a refused login shows none). */
    private readonly header = '',
    private readonly timers: ProgressTimers = SYSTEM_TIMERS,
  ) {
    this.pending = [...expected];
  }

  /** DIAG was sent: start the spinner (on a terminal). */
  start(): void {
    if (!this.live || this.timer !== undefined) return;
    this.draw();
    this.timer = this.timers.setInterval(() => this.draw(), FRAME_MS);
  }

  /** A check's result arrived. */
  check(result: DiagCheckResult): void {
    if (this.timer === undefined && this.printed === 0) this.start();
    const at = this.pending.indexOf(result.check);
    if (at >= 0) this.pending.splice(at, 1);
    this.clear();
    this.out.write((this.printed === 0 ? this.header : '') + renderCheck(result, this.paint));
    this.printed += 1;
    if (this.timer !== undefined && this.pending.length > 0) this.draw();
  }

  /** DIAG ended (or failed): remove the spinner. */
  stop(): void {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    const next = this.pending[0];
    const text = next === undefined ? 'diagnostics' : `${next} ...`;
    this.out.write(`\r    ${this.paint('cyan', FRAMES[this.frame % FRAMES.length]!)} ${text}\u001b[K`);
    this.frame += 1;
    this.shown = true;
  }

  private clear(): void {
    if (!this.shown) return;
    this.out.write('\r\u001b[K');
    this.shown = false;
  }
}

/** A spinner needs a terminal on stdout that can erase a line (not TERM=dumb). */
export function liveProgress(io: { stdout: { isTTY?: boolean }; env: NodeJS.ProcessEnv }): boolean {
  return io.stdout.isTTY === true && io.env.TERM !== 'dumb';
}
