/**
 * The connection a port manager lends to one operation (manager.ts `lease`), the PortLoss every
 * call of it races, and the small pieces of TerminalInfo and error building the manager shares
 * with it.
 */
import type { TerminalConnection } from '../../host/engine.js';
import { PosbridgeError } from '../../host/errors.js';
import type { TerminalInfo } from '../../host/hub.js';
import type { PortCandidate } from '../discovery/index.js';

/**
 * The end of a port (DISCONNECTED, CLOSED), once. A call under way waits for it through a listener
 * it removes when it settles: racing a promise that never settles (Promise.race) would leave a
 * reaction on it per call, about 400 bytes each, for as long as the port stays open.
 */
export class PortLoss {
  /** Rejects with the error once the port is lost (for calls made after that). */
  readonly lost: Promise<never>;
  private rejectLost!: (error: PosbridgeError) => void;
  private readonly watchers = new Set<(error: PosbridgeError) => void>();

  constructor() {
    this.lost = new Promise<never>((_, reject) => {
      this.rejectLost = reject;
    });
    this.lost.catch(() => undefined);
  }

  lose(error: PosbridgeError): void {
    this.rejectLost(error);
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const fail of watchers) fail(error);
  }

  /** `work`'s outcome, or the port's loss if that comes first. */
  race<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.watchers.add(reject);
      const settled = () => this.watchers.delete(reject);
      work().then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }
}

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
    private readonly entry: { ended: boolean; loss: PortLoss },
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
    if (this.entry.ended) return this.entry.loss.lost;
    this.used = true;
    return this.entry.loss.race(body);
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
