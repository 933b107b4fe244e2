import { CodedError } from '../../protocol/index.js';

/** Why a transport operation failed; stable strings that callers and tests can match on. */
export type TransportErrorCode =
  /** No terminal is registered at the path given to the in-process binding. */
  | 'UNKNOWN_PORT'
  /** The path is already open (exclusive, like a serial port lock). */
  | 'PORT_BUSY'
  /** An operation on a port that was closed by its host. */
  | 'PORT_NOT_OPEN'
  /** A read or write cut short because the host closed the port (`canceled` is true). */
  | 'CANCELED'
  /** The device end of the cable went away (`disconnected` is true). */
  | 'DISCONNECTED'
  /** A caller passed an argument that cannot work (bad path, bad baud rate, bad host). */
  | 'INVALID_ARGUMENT'
  /** The TCP server could not listen (address in use, permission, ...). */
  | 'LISTEN_FAILED'
  /** The pty link path exists and is not a symlink: refusing to replace a real file. */
  | 'PATH_EXISTS'
  /** The pty link leads to a pty another program still serves or has open: not replaced. */
  | 'LINK_IN_USE'
  /** The pty link (symlink) could not be created or re-pointed (missing directory, permission). */
  | 'LINK_FAILED'
  /** The pty helper could not be started (python3 missing, no pty support, ...). */
  | 'PTY_UNAVAILABLE'
  /** The pty helper failed after it started. */
  | 'PTY_FAILED'
  /** `--device PATH`: nothing at that path. */
  | 'DEVICE_NOT_FOUND'
  /** `--device PATH`: the tty exists but could not be opened (busy, permission, not a tty). */
  | 'DEVICE_FAILED';

export interface TransportErrorFlags {
  /** serialport convention: the operation was cut short by a close, not a failure of the line. */
  canceled?: boolean;
  /** serialport convention: the line is gone (SerialPortStream then closes with a DisconnectedError). */
  disconnected?: boolean;
  cause?: unknown;
}

/** A coded error (src/protocol/coded-error.ts) that also speaks serialport's error conventions. */
export class TransportError extends CodedError<TransportErrorCode> {
  override readonly name = 'TransportError';
  readonly canceled: boolean;
  readonly disconnected: boolean;

  constructor(code: TransportErrorCode, message: string, flags: TransportErrorFlags = {}) {
    super(code, message, { cause: flags.cause });
    this.canceled = flags.canceled ?? false;
    this.disconnected = flags.disconnected ?? false;
  }
}
