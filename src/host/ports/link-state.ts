/**
 * The listener bookkeeping every Transport needs, written once: data listeners, close listeners
 * called exactly once whoever ends the link (also those registered after the end), and a thrown
 * listener never reaching the I/O code that delivered the bytes.
 */

export interface LinkState {
  readonly closed: boolean;
  onData(callback: (bytes: Uint8Array) => void): () => void;
  onClose(callback: (error?: Error) => void): () => void;
  /** Deliver bytes to every data listener (ignored after the end). */
  emitData(bytes: Uint8Array): void;
  /** Mark the link ended and notify close listeners; false if it had already ended. */
  finish(error?: Error): boolean;
  /** Resolves when the link has ended. */
  readonly ended: Promise<void>;
}

export function createLinkState(onListenerError: (error: unknown) => void = () => {}): LinkState {
  const dataListeners = new Set<(bytes: Uint8Array) => void>();
  const closeListeners = new Set<(error?: Error) => void>();
  let closed = false;
  let endError: Error | undefined;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });

  const safely = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      onListenerError(error);
    }
  };

  return {
    get closed() {
      return closed;
    },
    ended,
    onData(callback) {
      dataListeners.add(callback);
      return () => dataListeners.delete(callback);
    },
    onClose(callback) {
      if (closed) {
        let cancelled = false;
        queueMicrotask(() => {
          if (!cancelled) safely(() => callback(endError));
        });
        return () => {
          cancelled = true;
        };
      }
      closeListeners.add(callback);
      return () => closeListeners.delete(callback);
    },
    emitData(bytes) {
      if (closed || bytes.length === 0) return;
      for (const listener of [...dataListeners]) safely(() => listener(bytes));
    },
    finish(error) {
      if (closed) return false;
      closed = true;
      endError = error;
      const listeners = [...closeListeners];
      closeListeners.clear();
      dataListeners.clear();
      for (const listener of listeners) safely(() => listener(error));
      resolveEnded();
      return true;
    },
  };
}
