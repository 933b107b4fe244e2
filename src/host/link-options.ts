/**
 * What one operation asks of the link it uses, when that link is not its own: the daemon keeps
 * each port open and lends it to one operation at a time, so the caller's `--trace`, `--timeout`
 * and `--baud` travel with the operation and hold only while it runs (docs/cli.md, "Through the
 * daemon"). In-process, the CLI opens the port with them instead.
 */
import { PosbridgeError } from './errors.js';
import type { WireTrace } from './trace.js';

export interface LinkOptions {
  /** This operation's wire lines (masked, as every trace) also go here. */
  trace?: WireTrace | undefined;
  /** Reply timeout of normal commands, ms; slow ones (DIAG) get `slowTimeoutFor` of it. */
  timeoutMs?: number | undefined;
  /**
   * The line rate the caller expects. A port already open at another rate is not reopened under
   * the other users of the port: the operation is refused (USAGE) before a byte is sent.
   */
  baudRate?: number | undefined;
}

/** DIAG's checks may take seconds each; its timer restarts at every DATA line. */
export const SLOW_TIMEOUT_FACTOR = 5;

export function slowTimeoutFor(timeoutMs: number): number {
  return timeoutMs * SLOW_TIMEOUT_FACTOR;
}

/** True when the options ask for anything at all. */
export function asksAnything(link: LinkOptions | undefined): link is LinkOptions {
  return (
    link !== undefined &&
    (link.trace !== undefined || link.timeoutMs !== undefined || link.baudRate !== undefined)
  );
}

/** The reply timeouts an operation asks for (normal, and slow for DIAG), if it asks. */
export function replyTimeouts(link: LinkOptions): { normal: number; slow: number } | undefined {
  return link.timeoutMs === undefined
    ? undefined
    : { normal: link.timeoutMs, slow: slowTimeoutFor(link.timeoutMs) };
}

/**
 * The refusal (USAGE, exit 2) of an operation that expects another line rate than the one the
 * serial port `port` is open at (`lineRate`; undefined where no rate applies); else undefined.
 */
export function otherRateRefusal(
  port: string,
  lineRate: number | undefined,
  link: LinkOptions,
): PosbridgeError | undefined {
  if (link.baudRate === undefined || lineRate === undefined || link.baudRate === lineRate) return undefined;
  return new PosbridgeError(
    'USAGE',
    `${port} is held open at ${lineRate} baud; --baud ${link.baudRate} cannot apply to it without reopening it under its other users`,
    {
      hint: `leave out --baud (or give ${lineRate}), or set the rate in the daemon config (baud) and restart it; nothing was sent`,
      details: { port, baudRate: lineRate, asked: link.baudRate },
    },
  );
}

/**
 * The link options in force on a connection lent to one operation at a time (the daemon's open
 * driver): the current operation's reply timeouts and trace, undone when it gives the link back.
 */
export class SharedLink {
  private timeouts: { normal: number; slow: number } | undefined;

  constructor(
    private readonly port: () => string,
    /** The serial line rate it is open at; undefined where none applies (tcp://, mock://). */
    private readonly lineRate: number | undefined,
    private readonly addTrace: (sink: WireTrace) => () => void,
  ) {}

  /** Applies `link` until the returned function is called; throws what it cannot honour. */
  use(link: LinkOptions): () => void {
    const refusal = otherRateRefusal(this.port(), this.lineRate, link);
    if (refusal) throw refusal;
    const previous = this.timeouts;
    this.timeouts = replyTimeouts(link) ?? previous;
    const offTrace = link.trace ? this.addTrace(link.trace) : undefined;
    let undone = false;
    return () => {
      if (undone) return;
      undone = true;
      offTrace?.();
      this.timeouts = previous;
    };
  }

  /** The reply timeout the current operation asked for (normal or slow commands), if any. */
  timeoutMs(slow: boolean): number | undefined {
    return slow ? this.timeouts?.slow : this.timeouts?.normal;
  }
}
