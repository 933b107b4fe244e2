/**
 * The Telnet byte stream (RFC 854, RFC 855, RFC 856), pure: no I/O, no timers.
 *
 * The problem it solves: a Telnet peer mixes data with commands. 0xFF (IAC) starts a command, so a
 * data byte 0xFF travels doubled (IAC IAC); `IAC WILL/WONT/DO/DONT opt` negotiates an option;
 * `IAC SB opt ... IAC SE` carries a subnegotiation (RFC 2217's COM-PORT-OPTION lives there), whose
 * own 0xFF bytes are doubled too. Any of these may be cut at any byte by TCP. Outside BINARY mode
 * (RFC 856), the network virtual terminal also sends a bare CR as CR NUL (RFC 854).
 *
 * TelnetDecoder turns received chunks into ordered events (data runs, negotiations,
 * subnegotiations, other commands); the encoders below build what is sent.
 */

export const IAC = 0xff;
export const DONT = 0xfe;
export const DO = 0xfd;
export const WONT = 0xfc;
export const WILL = 0xfb;
export const SB = 0xfa;
export const SE = 0xf0;
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** Telnet options posbridge knows by name (RFC 856 BINARY, RFC 857 ECHO, RFC 858 SGA, RFC 2217). */
export const TelnetOption = {
  BINARY: 0,
  ECHO: 1,
  SGA: 3,
  COM_PORT: 44,
} as const;

export type TelnetVerb = 'WILL' | 'WONT' | 'DO' | 'DONT';

const VERB_BYTE: Record<TelnetVerb, number> = { WILL, WONT, DO, DONT };
const BYTE_VERB: Record<number, TelnetVerb> = { [WILL]: 'WILL', [WONT]: 'WONT', [DO]: 'DO', [DONT]: 'DONT' };

/**
 * A subnegotiation longer than this is not one a serial server sends (RFC 2217's longest is a
 * signature text): it is discarded, so a peer cannot make us buffer without bound.
 */
export const MAX_SUBNEGOTIATION = 512;

export type TelnetEvent =
  /** Data bytes, IAC IAC already undone (and CR NUL, outside BINARY mode). */
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'negotiate'; verb: TelnetVerb; option: number }
  /** `IAC SB option payload IAC SE`, the payload unescaped. */
  | { type: 'subnegotiation'; option: number; payload: Uint8Array }
  /** Any other command (NOP, GA, AYT, a stray SE...): nothing to do for a serial link. */
  | { type: 'command'; command: number }
  /** A subnegotiation over MAX_SUBNEGOTIATION bytes, dropped. */
  | { type: 'overflow'; option: number };

type State = 'data' | 'iac' | 'verb' | 'sb-option' | 'sb-data' | 'sb-iac' | 'sb-skip' | 'sb-skip-iac';

export class TelnetDecoder {
  /**
   * Whether the peer sends in BINARY mode (RFC 856). Outside it, CR NUL is a bare CR (RFC 854).
   * The owner may change it from inside the event callback (when BINARY is agreed): the bytes
   * after that event are decoded in the new mode.
   */
  binary = false;
  private state: State = 'data';
  private verb: TelnetVerb = 'WILL';
  private option = 0;
  private readonly sb: number[] = [];
  /** The last data byte was a CR (its NUL may be in the next chunk). */
  private afterCr = false;

  /** Decodes `chunk`, calling `emit` for each event in stream order. */
  push(chunk: Uint8Array, emit: (event: TelnetEvent) => void): void {
    let run: number[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      emit({ type: 'data', bytes: Uint8Array.from(run) });
      run = [];
    };
    const event = (e: TelnetEvent): void => {
      flush();
      emit(e);
    };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.state) {
        case 'data':
          if (byte === IAC) {
            this.state = 'iac';
          } else if (byte === NUL && this.afterCr && !this.binary) {
            this.afterCr = false;
          } else {
            this.afterCr = byte === CR;
            run.push(byte);
          }
          break;
        case 'iac':
          this.state = 'data';
          if (byte === IAC) {
            this.afterCr = false;
            run.push(IAC);
          } else if (BYTE_VERB[byte] !== undefined) {
            this.verb = BYTE_VERB[byte]!;
            this.state = 'verb';
          } else if (byte === SB) {
            this.state = 'sb-option';
          } else {
            event({ type: 'command', command: byte });
          }
          break;
        case 'verb':
          this.state = 'data';
          event({ type: 'negotiate', verb: this.verb, option: byte });
          break;
        case 'sb-option':
          this.option = byte;
          this.sb.length = 0;
          this.state = 'sb-data';
          break;
        case 'sb-data':
          if (byte === IAC) this.state = 'sb-iac';
          else this.sbPush(byte, event);
          break;
        case 'sb-iac':
          if (byte === IAC) {
            this.state = 'sb-data';
            this.sbPush(IAC, event);
          } else if (byte === SE) {
            this.state = 'data';
            event({ type: 'subnegotiation', option: this.option, payload: Uint8Array.from(this.sb) });
            this.sb.length = 0;
          } else {
            // RFC 855 leaves IAC + other inside SB undefined: end the subnegotiation there and read
            // the byte again as the command it starts, so a peer that forgot IAC SE cannot swallow
            // the stream.
            event({ type: 'subnegotiation', option: this.option, payload: Uint8Array.from(this.sb) });
            this.sb.length = 0;
            this.state = 'iac';
            i--;
          }
          break;
        case 'sb-skip':
          if (byte === IAC) this.state = 'sb-skip-iac';
          break;
        case 'sb-skip-iac':
          this.state = byte === SE ? 'data' : 'sb-skip';
          break;
      }
    }
    flush();
  }

  private sbPush(byte: number, event: (e: TelnetEvent) => void): void {
    if (this.sb.length < MAX_SUBNEGOTIATION) {
      this.sb.push(byte);
      return;
    }
    this.sb.length = 0;
    this.state = byte === IAC ? 'sb-skip-iac' : 'sb-skip';
    event({ type: 'overflow', option: this.option });
  }
}

/**
 * Data as it goes on the wire: every 0xFF doubled; outside BINARY mode (`binary` false) a CR not
 * followed by LF becomes CR NUL (RFC 854). A CR that ends the chunk becomes CR NUL too: if the
 * next chunk starts with LF, the peer reads CR, LF all the same.
 */
export function escapeData(bytes: Uint8Array, binary: boolean): Uint8Array {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === IAC || (!binary && bytes[i] === CR && bytes[i + 1] !== LF)) extra++;
  }
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    out[j++] = byte;
    if (byte === IAC) out[j++] = IAC;
    else if (!binary && byte === CR && bytes[i + 1] !== LF) out[j++] = NUL;
  }
  return out;
}

/** `IAC verb option`. */
export function negotiation(verb: TelnetVerb, option: number): Uint8Array {
  return Uint8Array.of(IAC, VERB_BYTE[verb], option);
}

/** `IAC SB option payload IAC SE`, 0xFF in the payload doubled. */
export function subnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const escaped = escapeData(payload, true);
  const out = new Uint8Array(escaped.length + 5);
  out.set([IAC, SB, option], 0);
  out.set(escaped, 3);
  out.set([IAC, SE], escaped.length + 3);
  return out;
}
