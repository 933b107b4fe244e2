/**
 * The connection a port manager lends to one operation (manager.ts `lease`), and the small
 * pieces of TerminalInfo and error building the manager shares with it.
 */
import type { TerminalConnection } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { TerminalInfo } from '../../host/hub.js';
import type { PortCandidate } from './discovery.js';

/** What a Lease needs of the open terminal: its operations. */
type LeasedTerminal = Omit<TerminalConnection, 'close'>;

/**
 * The connection a lease hands out: the port's open driver, each call racing the port's end (so
 * an unplug fails it at once with DISCONNECTED), and a close() that gives the port back.
 */
export class Lease implements TerminalConnection {
  private done = false;
  /** A request went out through this lease. */
  used = false;
  private readonly undoLink: Array<() => void> = [];
  private resolveReleased!: () => void;
  readonly released = new Promise<void>((resolve) => {
    this.resolveReleased = resolve;
  });

  constructor(
    private readonly port: string,
    private readonly driver: LeasedTerminal,
    private readonly entry: { ended: boolean; lost: Promise<never> },
    private readonly onRelease: () => void,
  ) {}

  hello: TerminalConnection['hello'] = () => this.call(() => this.driver.hello());
  status: TerminalConnection['status'] = () => this.call(() => this.driver.status());
  login: TerminalConnection['login'] = (user, password) => this.call(() => this.driver.login(user, password));
  logout: TerminalConnection['logout'] = () => this.call(() => this.driver.logout());
  passwd: TerminalConnection['passwd'] = (args) => this.call(() => this.driver.passwd(args));
  init: TerminalConnection['init'] = (args) => this.call(() => this.driver.init(args));
  get: TerminalConnection['get'] = (key) => this.call(() => this.driver.get(key));
  set: TerminalConnection['set'] = (key, value) => this.call(() => this.driver.set(key, value));
  time: TerminalConnection['time'] = (utc) => this.call(() => this.driver.time(utc));
  userAdd: TerminalConnection['userAdd'] = (args) => this.call(() => this.driver.userAdd(args));
  userSet: TerminalConnection['userSet'] = (args) => this.call(() => this.driver.userSet(args));
  userDel: TerminalConnection['userDel'] = (id) => this.call(() => this.driver.userDel(id));
  userList: TerminalConnection['userList'] = () => this.call(() => this.driver.userList());
  diag: TerminalConnection['diag'] = (checks, onCheck) => this.call(() => this.driver.diag(checks, onCheck));

  /** The operation's trace and timeouts on the port's open driver, for this lease only. */
  get useLink(): TerminalConnection['useLink'] {
    const driver = this.driver;
    if (!driver.useLink) return undefined;
    return (link) => {
      if (this.done) throw this.givenBack();
      const undo = driver.useLink!(link);
      this.undoLink.push(undo);
      return undo;
    };
  }

  /** Gives the port back to the manager (which keeps it open). Idempotent. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    // The next holder (a heartbeat, another lease) gets the link as it was.
    for (const undo of this.undoLink.splice(0)) undo();
    this.onRelease();
    this.resolveReleased();
  }

  private call<T>(body: () => Promise<T>): Promise<T> {
    if (this.done) return Promise.reject(this.givenBack());
    if (this.entry.ended) return this.entry.lost;
    this.used = true;
    return Promise.race([body(), this.entry.lost]);
  }

  private givenBack(): PosbridgeError {
    return new PosbridgeError('CLOSED', `${this.port}: this lease was given back`, {
      hint: 'Lease the port again.',
      details: { port: this.port },
    });
  }
}

export function applyCandidate(info: TerminalInfo, candidate: PortCandidate): void {
  if (candidate.byId !== undefined) info.byId = candidate.byId;
  if (candidate.usb !== undefined) info.usb = { ...candidate.usb };
}

export function copyInfo(info: TerminalInfo): TerminalInfo {
  const copy: TerminalInfo = { ...info };
  if (info.usb) copy.usb = { ...info.usb };
  if (info.hello) copy.hello = { ...info.hello, caps: [...info.hello.caps] };
  if (info.status) copy.status = { ...info.status, factoryPw: [...info.status.factoryPw] };
  if (info.error) copy.error = { ...info.error };
  return copy;
}

export function disconnected(port: string, why: string): PosbridgeError {
  return new PosbridgeError('DISCONNECTED', `${port}: the terminal went away (${why})`, {
    hint: 'Check the cable, the hub and that the terminal is on; the daemon picks it up again when it reappears.',
    details: { port },
  });
}

export function closedError(port: string): PosbridgeError {
  return new PosbridgeError('CLOSED', `${port}: the daemon is shutting down`, { details: { port } });
}

export function toPosbridgeError(error: unknown, port: string): PosbridgeError {
  if (error instanceof PosbridgeError) return error;
  return new PosbridgeError('PORT_OPEN_FAILED', `${port}: ${(error as Error)?.message ?? String(error)}`, {
    details: { port },
    cause: error,
  });
}
