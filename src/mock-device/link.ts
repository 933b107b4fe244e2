/**
 * The mock terminal's side of one cable: a full-duplex byte pipe to one connected host.
 *
 * A transport (in-process serialport binding, pseudo-terminal, TCP) turns each "plug-in" of a
 * host into one DeviceLink and hands it to the terminal, which keeps per-connection state (login,
 * replay cache) for as long as the link is open. The terminal's persistent state outlives links.
 */
export interface DeviceLink {
  /** A short label for logs: `tcp 127.0.0.1:53122`, `pty /tmp/pos0`, `inproc mock://a`. */
  readonly label: string;
  /** Queue bytes from the terminal to the host. Never throws; bytes sent after close are dropped. */
  send(bytes: Uint8Array): void;
  /** Register the (single) handler for bytes from the host to the terminal. */
  onReceive(handler: (bytes: Uint8Array) => void): void;
  /** Register the (single) handler called exactly once when the link ends, whoever ended it. */
  onClose(handler: () => void): void;
  /** End the link from the terminal's side (the cable is pulled). Idempotent. */
  close(): void;
}

/** Called by a transport for each new connection. */
export type LinkHandler = (link: DeviceLink) => void;
