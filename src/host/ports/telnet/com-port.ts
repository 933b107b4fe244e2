/**
 * RFC 2217 COM-PORT-OPTION (Telnet option 44), pure: the subnegotiations a client sends and the
 * parser of what a server sends back.
 *
 * A client sends `IAC SB 44 <command> <value> IAC SE` with commands 0-12; the server acknowledges
 * or notifies with the same command + 100. Values: a baud rate is 4 bytes, network order; the
 * other settings are one byte, where 0 asks for the current value. A server answers a setting
 * with the value it actually applied, which is how a client learns that its request was not
 * honoured.
 */
import { subnegotiation, TelnetOption } from './codec.js';

export const ComPortCommand = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;

/** A server's command is the client's + 100 (RFC 2217, "Server to client"). */
export const SERVER_OFFSET = 100;

/** SET-PARITY values. */
export const Parity = { NONE: 1, ODD: 2, EVEN: 3, MARK: 4, SPACE: 5 } as const;
/** SET-STOPSIZE values (3 is 1.5 stop bits). */
export const StopSize = { ONE: 1, TWO: 2, ONE_AND_HALF: 3 } as const;
/** SET-CONTROL values posbridge uses: 0 asks for the flow control in force, 1 sets none. */
export const Control = { REQUEST_FLOW: 0, FLOW_NONE: 1, FLOW_XONXOFF: 2, FLOW_HARDWARE: 3 } as const;
/** PURGE-DATA values: 1 the server's receive buffer, 2 its transmit buffer, 3 both. */
export const Purge = { RECEIVE: 1, TRANSMIT: 2, BOTH: 3 } as const;

export type ComPortSetting = 'baud' | 'datasize' | 'parity' | 'stopsize' | 'control' | 'purge';

export type ComPortMessage =
  | { kind: ComPortSetting; value: number }
  | { kind: 'signature'; text: string }
  | { kind: 'linestate' | 'modemstate' | 'linestate-mask' | 'modemstate-mask'; value: number }
  | { kind: 'flow-suspend' | 'flow-resume' }
  /** A command this client does not know, or one whose value has the wrong length. */
  | { kind: 'unknown'; command: number; payload: Uint8Array };

const ONE_BYTE: Record<number, ComPortMessage['kind']> = {
  [ComPortCommand.SET_DATASIZE]: 'datasize',
  [ComPortCommand.SET_PARITY]: 'parity',
  [ComPortCommand.SET_STOPSIZE]: 'stopsize',
  [ComPortCommand.SET_CONTROL]: 'control',
  [ComPortCommand.NOTIFY_LINESTATE]: 'linestate',
  [ComPortCommand.NOTIFY_MODEMSTATE]: 'modemstate',
  [ComPortCommand.SET_LINESTATE_MASK]: 'linestate-mask',
  [ComPortCommand.SET_MODEMSTATE_MASK]: 'modemstate-mask',
  [ComPortCommand.PURGE_DATA]: 'purge',
};

/** Reads the payload of a server's COM-PORT-OPTION subnegotiation (after `IAC SB 44`). */
export function parseServerComPort(payload: Uint8Array): ComPortMessage {
  const command = (payload[0] ?? 0) - SERVER_OFFSET;
  const value = payload.subarray(1);
  const unknown: ComPortMessage = { kind: 'unknown', command: payload[0] ?? -1, payload: value };
  if (payload.length === 0) return unknown;
  switch (command) {
    case ComPortCommand.SIGNATURE:
      return { kind: 'signature', text: Buffer.from(value).toString('latin1') };
    case ComPortCommand.SET_BAUDRATE:
      if (value.length !== 4) return unknown;
      return { kind: 'baud', value: Buffer.from(value).readUInt32BE(0) };
    case ComPortCommand.FLOWCONTROL_SUSPEND:
      return { kind: 'flow-suspend' };
    case ComPortCommand.FLOWCONTROL_RESUME:
      return { kind: 'flow-resume' };
  }
  const kind = ONE_BYTE[command];
  if (kind === undefined || value.length !== 1) return unknown;
  return { kind, value: value[0]! } as ComPortMessage;
}

/** `IAC SB 44 command value IAC SE` from the client. */
export function comPortRequest(command: number, value: Uint8Array = new Uint8Array(0)): Uint8Array {
  const payload = new Uint8Array(value.length + 1);
  payload[0] = command;
  payload.set(value, 1);
  return subnegotiation(TelnetOption.COM_PORT, payload);
}

export function setBaudRate(baud: number): Uint8Array {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(baud, 0);
  return comPortRequest(ComPortCommand.SET_BAUDRATE, value);
}

export function setDataSize(bits: number): Uint8Array {
  return comPortRequest(ComPortCommand.SET_DATASIZE, Uint8Array.of(bits));
}

export function setParity(parity: number): Uint8Array {
  return comPortRequest(ComPortCommand.SET_PARITY, Uint8Array.of(parity));
}

export function setStopSize(stop: number): Uint8Array {
  return comPortRequest(ComPortCommand.SET_STOPSIZE, Uint8Array.of(stop));
}

export function setControl(value: number): Uint8Array {
  return comPortRequest(ComPortCommand.SET_CONTROL, Uint8Array.of(value));
}

export function purgeData(which: number): Uint8Array {
  return comPortRequest(ComPortCommand.PURGE_DATA, Uint8Array.of(which));
}

/** Our signature, sent when the server asks for it (an empty SIGNATURE). */
export function signature(text: string): Uint8Array {
  return comPortRequest(ComPortCommand.SIGNATURE, Buffer.from(text, 'latin1'));
}

/** A human name for a setting's value, for error messages: `none parity`, `1 stop bit`. */
export function describeSetting(setting: ComPortSetting, value: number): string {
  switch (setting) {
    case 'baud':
      return `${value} baud`;
    case 'datasize':
      return `${value} data bits`;
    case 'parity':
      return `${['?', 'none', 'odd', 'even', 'mark', 'space'][value] ?? `#${value}`} parity`;
    case 'stopsize':
      return `${['?', '1', '2', '1.5'][value] ?? `#${value}`} stop bits`;
    case 'control':
      return `flow control ${['(query)', 'none', 'XON/XOFF', 'RTS/CTS'][value] ?? `#${value}`}`;
    case 'purge':
      return `purge ${value}`;
  }
}
