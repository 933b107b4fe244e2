/**
 * One Telnet connection as a Transport: the codec and the option negotiator (both pure) joined to
 * a socket. It answers every negotiation as it arrives (refusing what it does not want, never
 * looping), keeps the last COM-PORT answers for the opening handshake (setup.ts), honours
 * FLOWCONTROL-SUSPEND, and hands the session data bytes only, IAC unescaped: the session and its
 * trace see the same TSP/1 bytes as over tcp:// (docs/architecture.md, "Ports").
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import type { Timers } from '../../../protocol/index.js';
import { PosbridgeError } from '../../errors.js';
import { createLinkState } from '../link-state.js';
import type { Transport } from '../transport.js';
import { escapeData, negotiation, TelnetDecoder, type TelnetEvent, TelnetOption } from './codec.js';
import { type ComPortMessage, type ComPortSetting, parseServerComPort, signature } from './com-port.js';
import { OptionNegotiator } from './negotiation.js';

/** Bytes held while the server has suspended our output (FLOWCONTROL-SUSPEND); beyond, the link ends. */
export const MAX_SUSPENDED_BYTES = 64 * 1024;
/** How much of the data before setup is kept to quote in an error. */
const DISCARDED_HEAD = 120;

export interface TelnetLinkOptions {
  /** Negotiate COM-PORT-OPTION (rfc2217://) or not (telnet://). */
  comPort: boolean;
  timers: Timers;
  /** Bound on a graceful close before the socket is destroyed, ms. */
  closeTimeoutMs: number;
  logger?: Logger | undefined;
}

export class TelnetLink implements Transport {
  readonly name: string;
  readonly negotiator: OptionNegotiator;
  /** Whether the server ever sent a Telnet command (a raw TCP port never does). */
  heardTelnet = false;
  /** Data bytes dropped because they came before the link was ready (stale: purged on open). */
  discarded = 0;
  /** The first of those bytes: a server refusing us says why there ("Port already in use"). */
  private discardedHead: number[] = [];
  private readonly decoder = new TelnetDecoder();
  private readonly state;
  private readonly answers = new Map<ComPortSetting, number>();
  private readonly wakers = new Set<() => void>();
  private readonly comPortListeners = new Set<(message: ComPortMessage) => void>();
  private sendBinary = false;
  private ready = false;
  private suspended: Uint8Array[] | undefined;
  private suspendedBytes = 0;
  private closedByUs = false;

  constructor(
    name: string,
    private readonly socket: net.Socket,
    private readonly options: TelnetLinkOptions,
  ) {
    this.name = name;
    this.state = createLinkState((error) =>
      options.logger?.error({ err: error, port: name }, 'transport listener threw'),
    );
    const local: number[] = [TelnetOption.BINARY, TelnetOption.SGA];
    if (options.comPort) local.push(TelnetOption.COM_PORT);
    this.negotiator = new OptionNegotiator({ local, remote: [TelnetOption.BINARY, TelnetOption.SGA] });
    let lastError: Error | undefined;
    // 'error' is always followed by 'close'; listening keeps it from being thrown.
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk, (event) => this.onEvent(event)));
    socket.once('close', () => {
      this.state.finish(
        this.closedByUs
          ? undefined
          : disconnect(lastError ? lastError.message : 'the serial server closed the connection'),
      );
      this.wake();
    });
  }

  get closed(): boolean {
    return this.state.closed;
  }

  /** Sends our opening requests (WILL/DO BINARY, SGA, and WILL COM-PORT-OPTION for rfc2217). */
  start(): void {
    const requests = this.negotiator.start().map((r) => negotiation(r.verb, r.option));
    this.sendRaw(Buffer.concat(requests));
  }

  /** From now on data goes to onData listeners; what came before was counted in `discarded`. */
  markReady(): void {
    this.ready = true;
  }

  /** Sends bytes exactly as given (negotiations, subnegotiations). */
  sendRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The server's last answer for a COM-PORT setting since `forget()`. */
  answer(setting: ComPortSetting): number | undefined {
    return this.answers.get(setting);
  }

  forget(settings: readonly ComPortSetting[]): void {
    for (const setting of settings) this.answers.delete(setting);
  }

  /** Calls `listener` with every COM-PORT message from the server. */
  onComPort(listener: (message: ComPortMessage) => void): () => void {
    this.comPortListeners.add(listener);
    return () => this.comPortListeners.delete(listener);
  }

  /**
   * Resolves true once `condition()` holds (checked after each thing the server sends), false
   * after `timeoutMs`; rejects with PORT_OPEN_FAILED if the connection ends first.
   */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          finish(() => resolve(true));
        } else if (this.state.closed) {
          finish(() => reject(this.closedDuringSetup()));
        }
      };
      const timer = this.options.timers.setTimeout(() => finish(() => resolve(false)), timeoutMs);
      const finish = (settle: () => void): void => {
        this.options.timers.clearTimeout(timer);
        this.wakers.delete(check);
        settle();
      };
      this.wakers.add(check);
      check();
    });
  }

  private closedDuringSetup(): PosbridgeError {
    // ser2net greets a second client with "Port already in use" and hangs up.
    const said = Buffer.from(this.discardedHead)
      .toString('latin1')
      .replace(/[^\x20-\x7e]+/g, ' ')
      .trim();
    const busy = /in use|busy/i.test(said);
    return new PosbridgeError(
      busy ? 'PORT_BUSY' : 'PORT_OPEN_FAILED',
      `${busy ? 'port busy: ' : ''}${this.name}: the serial server closed the connection while it was being set up${said ? ` (it said: "${said}")` : ''}`,
      {
        hint: busy
          ? 'Another client holds this serial server port: close it (a console, another posbridge) or ask who uses the server.'
          : 'Check the serial server: its port may be in use by another client, or refuse this connection.',
        details: { port: this.name },
      },
    );
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state.closed || this.socket.destroyed) {
      return Promise.reject(
        new PosbridgeError('DISCONNECTED', `${this.name}: the connection is closed`, {
          details: { port: this.name },
        }),
      );
    }
    const wire = escapeData(bytes, this.sendBinary);
    if (this.suspended) {
      // RFC 2217 FLOWCONTROL-SUSPEND: hold our output until FLOWCONTROL-RESUME.
      this.suspendedBytes += wire.length;
      if (this.suspendedBytes > MAX_SUSPENDED_BYTES) {
        this.fail(`the serial server kept our output suspended with ${this.suspendedBytes} bytes waiting`);
      } else {
        this.suspended.push(Uint8Array.from(wire));
      }
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.socket.write(wire, (error) => (error ? reject(error) : resolve()));
    });
  }

  onData(callback: (bytes: Uint8Array) => void): () => void {
    return this.state.onData(callback);
  }

  onClose(callback: (error?: Error) => void): () => void {
    return this.state.onClose(callback);
  }

  /** Ends the link as an unplug (the session reports DISCONNECTED with `reason`). */
  fail(reason: string): void {
    if (this.state.closed) return;
    this.state.finish(disconnect(reason));
    this.socket.destroy();
    this.wake();
  }

  async close(): Promise<void> {
    if (this.state.closed) return;
    this.closedByUs = true;
    const timer = setTimeout(() => this.socket.destroy(), this.options.closeTimeoutMs);
    timer.unref?.();
    this.socket.end();
    await this.state.ended;
    clearTimeout(timer);
  }

  private onEvent(event: TelnetEvent): void {
    const log = this.options.logger;
    switch (event.type) {
      case 'data':
        if (this.ready) {
          this.state.emitData(event.bytes);
        } else {
          this.discarded += event.bytes.length;
          const room = DISCARDED_HEAD - this.discardedHead.length;
          if (room > 0) this.discardedHead.push(...event.bytes.subarray(0, room));
        }
        return;
      case 'negotiate': {
        this.heardTelnet = true;
        const step = this.negotiator.receive(event.verb, event.option);
        log?.debug(
          { port: this.name, telnet: `${event.verb} ${event.option}`, reply: step.reply },
          'telnet option',
        );
        if (step.reply) this.sendRaw(negotiation(step.reply.verb, step.reply.option));
        if (step.change?.option === TelnetOption.BINARY) {
          if (step.change.side === 'remote') this.decoder.binary = step.change.enabled;
          else this.sendBinary = step.change.enabled;
        }
        this.wake();
        return;
      }
      case 'subnegotiation':
        this.heardTelnet = true;
        if (event.option !== TelnetOption.COM_PORT || !this.options.comPort) {
          log?.debug({ port: this.name, option: event.option }, 'telnet: subnegotiation ignored');
          return;
        }
        this.onComPortMessage(parseServerComPort(event.payload));
        return;
      case 'command':
        this.heardTelnet = true;
        return;
      case 'overflow':
        log?.warn({ port: this.name, option: event.option }, 'telnet: over-long subnegotiation dropped');
        return;
    }
  }

  private onComPortMessage(message: ComPortMessage): void {
    this.options.logger?.debug({ port: this.name, comPort: message }, 'rfc2217');
    switch (message.kind) {
      case 'baud':
      case 'datasize':
      case 'parity':
      case 'stopsize':
      case 'control':
      case 'purge':
        this.answers.set(message.kind, message.value);
        break;
      case 'signature':
        // An empty signature asks for ours (RFC 2217, SIGNATURE).
        if (message.text === '') this.sendRaw(signature('posbridge'));
        break;
      case 'flow-suspend':
        this.suspended ??= [];
        break;
      case 'flow-resume':
        this.resume();
        break;
      default:
        break;
    }
    for (const listener of [...this.comPortListeners]) listener(message);
    this.wake();
  }

  private resume(): void {
    const held = this.suspended;
    this.suspended = undefined;
    this.suspendedBytes = 0;
    if (held && held.length > 0) this.sendRaw(Buffer.concat(held));
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}

function disconnect(reason: string): Error {
  return Object.assign(new Error(reason), { disconnected: true });
}
