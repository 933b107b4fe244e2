import type { DeviceLink } from '../link.js';

/**
 * How many host→terminal bytes a link holds while the terminal has not registered `onReceive`
 * yet. Beyond it bytes are dropped, as a UART drops bytes nobody reads (an overrun); a terminal
 * registers its handler as soon as it gets the link, so this only bounds a misbehaving one.
 */
export const MAX_UNDELIVERED_BYTES = 1024 * 1024;

/** What a transport does for a link: the wire towards the host. */
export interface LinkWire {
  /** Carry terminal→host bytes (already copied, never empty). Only called while the link is open. */
  write(bytes: Uint8Array): void;
  /** The terminal ended the link: pull the cable on the host's side. Called at most once. */
  hangup(): void;
}

/** The transport's handle on one link. */
export interface LinkController {
  readonly link: DeviceLink;
  /** Bytes arrived from the host. Dropped once the link is closed. */
  deliver(bytes: Uint8Array): void;
  /** The host's side ended (port closed, socket closed, slave hung up). Idempotent. */
  end(): void;
  readonly isClosed: boolean;
  /** Resolves once the link has ended and its close handler, if registered, has run. */
  readonly closed: Promise<void>;
}

/**
 * Builds the DeviceLink that every transport hands out, so that the contract of link.ts (single
 * handlers, close reported exactly once whoever closes, sends after close dropped, nothing thrown
 * at the terminal) is implemented once.
 */
export function createLinkController(label: string, wire: LinkWire): LinkController {
  let receiveHandler: ((bytes: Uint8Array) => void) | undefined;
  let closeHandler: (() => void) | undefined;
  let isClosed = false;
  let closeNotified = false;
  // Host bytes that arrived before the terminal registered onReceive (or while a flush of those
  // is pending: later bytes must queue behind them to keep the order).
  const undelivered: Uint8Array[] = [];
  let undeliveredBytes = 0;
  let flushScheduled = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const flushUndelivered = (): void => {
    flushScheduled = false;
    if (isClosed || !receiveHandler || undelivered.length === 0) return;
    const bytes = undelivered.length === 1 ? undelivered[0]! : Buffer.concat(undelivered);
    undelivered.length = 0;
    undeliveredBytes = 0;
    receiveHandler(bytes);
  };

  // Handlers run from a microtask, never inside the terminal's own call to close()/onClose():
  // the terminal must not be re-entered while it is tearing down.
  const notifyClose = (): void => {
    queueMicrotask(() => {
      try {
        if (closeHandler && !closeNotified) {
          closeNotified = true;
          closeHandler();
        }
      } finally {
        resolveClosed();
      }
    });
  };

  const finish = (): boolean => {
    if (isClosed) return false;
    isClosed = true;
    undelivered.length = 0;
    undeliveredBytes = 0;
    notifyClose();
    return true;
  };

  const link: DeviceLink = {
    label,
    send(bytes) {
      if (isClosed || bytes.length === 0) return;
      // Copy: the transport may hold the bytes after send() returns and the caller may reuse them.
      wire.write(Buffer.from(bytes));
    },
    onReceive(handler) {
      receiveHandler = handler;
      if (undelivered.length > 0 && !flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flushUndelivered);
      }
    },
    onClose(handler) {
      closeHandler = handler;
      // Registered after the end: still tell it, once.
      if (isClosed && !closeNotified) {
        closeNotified = true;
        queueMicrotask(handler);
      }
    },
    close() {
      if (finish()) wire.hangup();
    },
  };

  return {
    link,
    deliver(bytes) {
      if (isClosed || bytes.length === 0) return;
      if (receiveHandler && !flushScheduled && undelivered.length === 0) {
        receiveHandler(bytes);
        return;
      }
      const room = MAX_UNDELIVERED_BYTES - undeliveredBytes;
      if (room <= 0) return;
      const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
      undelivered.push(kept);
      undeliveredBytes += kept.length;
    },
    end() {
      finish();
    },
    get isClosed() {
      return isClosed;
    },
    closed,
  };
}
