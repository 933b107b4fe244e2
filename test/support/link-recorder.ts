import type { DeviceLink, LinkHandler } from '../../src/mock-device/link.js';
import { ByteSink, deadline } from './wait.js';

/** One DeviceLink as a test sees it: what the terminal received, and how often it closed. */
export interface LinkProbe {
  readonly link: DeviceLink;
  readonly received: ByteSink;
  closeCount: number;
  /** Resolves at the first onClose. */
  readonly closed: Promise<void>;
}

/**
 * A stand-in for the terminal: a LinkHandler that records every link it is given, registers its
 * handlers at once (or later, with `receiveAfter`), and lets tests wait for the next link.
 */
export class LinkRecorder {
  readonly probes: LinkProbe[] = [];
  private taken = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly options: {
      /** Registers onReceive only once this resolves (to test buffering before registration). */
      receiveAfter?: () => Promise<void>;
    } = {},
  ) {}

  readonly handler: LinkHandler = (link) => {
    const received = new ByteSink();
    let markClosed!: () => void;
    const probe: LinkProbe = {
      link,
      received,
      closeCount: 0,
      closed: new Promise<void>((resolve) => {
        markClosed = resolve;
      }),
    };
    link.onClose(() => {
      probe.closeCount += 1;
      markClosed();
    });
    if (this.options.receiveAfter) void this.options.receiveAfter().then(() => link.onReceive(received.push));
    else link.onReceive(received.push);
    this.probes.push(probe);
    for (const wake of this.waiters.splice(0)) wake();
  };

  /** The next link not yet returned by next(), waiting for it if it has not arrived. */
  async next(what = 'a new link'): Promise<LinkProbe> {
    const index = this.taken++;
    const arrived = async (): Promise<LinkProbe> => {
      while (this.probes.length <= index) await new Promise<void>((wake) => this.waiters.push(wake));
      return this.probes[index]!;
    };
    return deadline(arrived(), what);
  }
}
