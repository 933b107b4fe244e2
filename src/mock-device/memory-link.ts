/**
 * A DeviceLink in memory, with its host end: what unit tests (and anyone wanting a terminal
 * without a transport) plug into a MockTerminal. Synchronous both ways: bytes written by the host
 * reach the terminal before write() returns; bytes the terminal sends are kept until read.
 */
import type { DeviceLink } from './link.js';

export interface MemoryHostEnd {
  /** Bytes (or latin1 text) from the host to the terminal. Ignored once closed. */
  write(data: Uint8Array | string): void;
  /** Everything the terminal sent and nobody read yet, as latin1 text; reading empties it. */
  read(): string;
  /** Complete lines (CRLF-terminated) received and not read yet, without terminators. */
  readLines(): string[];
  /** The host pulls the cable. */
  close(): void;
  readonly closed: boolean;
  /** Total bytes the terminal sent. */
  readonly bytesReceived: number;
}

export interface MemoryLink {
  link: DeviceLink;
  host: MemoryHostEnd;
}

export function createMemoryLink(label = 'memory'): MemoryLink {
  let receive: ((bytes: Uint8Array) => void) | undefined;
  let onClose: (() => void) | undefined;
  let closed = false;
  let notified = false;
  let buffered = '';
  let total = 0;

  const end = (): void => {
    if (closed) return;
    closed = true;
    if (onClose && !notified) {
      notified = true;
      onClose();
    }
  };

  const link: DeviceLink = {
    label,
    send(bytes) {
      if (closed) return;
      total += bytes.length;
      buffered += Buffer.from(bytes).toString('latin1');
    },
    onReceive(handler) {
      receive = handler;
    },
    onClose(handler) {
      onClose = handler;
      if (closed && !notified) {
        notified = true;
        handler();
      }
    },
    close: end,
  };

  const host: MemoryHostEnd = {
    write(data) {
      if (closed || !receive) return;
      receive(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    },
    read() {
      const text = buffered;
      buffered = '';
      return text;
    },
    readLines() {
      const last = buffered.lastIndexOf('\r\n');
      if (last < 0) return [];
      const complete = buffered.slice(0, last);
      buffered = buffered.slice(last + 2);
      return complete.split('\r\n');
    },
    close: end,
    get closed() {
      return closed;
    },
    get bytesReceived() {
      return total;
    },
  };
  return { link, host };
}
