/**
 * Who may use the dashboard (docs/dashboard.md, "Security"). The daemon prints a URL with a
 * one-time token; opening it trades the token for a session cookie (HttpOnly, SameSite=Strict,
 * as Jupyter does) and the token is spent. Every request for data needs the session; every
 * state-changing request also needs the session's CSRF token in a header, which a page of
 * another site can neither read nor send.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'pb_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  id: string;
  csrf: string;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class DashboardAuth {
  private loginToken: string | undefined;
  private readonly sessions = new Map<string, Session>();

  /** `random(n)`: n random bytes (crypto's, injected so tests can name them). */
  constructor(private readonly random: (n: number) => Uint8Array) {
    this.loginToken = this.secret();
  }

  /** The token of the URL the daemon prints; undefined once spent. */
  get token(): string | undefined {
    return this.loginToken;
  }

  /**
   * A new one-time token for another browser (`posbridge dashboard`, over the owner-only socket).
   * An unspent earlier one stops working: at most one link is open at a time.
   */
  renew(): string {
    this.loginToken = this.secret();
    return this.loginToken;
  }

  /** Trades the one-time token for a new session; undefined for a wrong or spent token. */
  login(token: string): Session | undefined {
    if (this.loginToken === undefined || !same(token, this.loginToken)) return undefined;
    this.loginToken = undefined;
    const session = { id: this.secret(), csrf: this.secret() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The request's session, from its cookie. */
  session(req: IncomingMessage): Session | undefined {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    for (const [known, session] of this.sessions) if (same(id, known)) return session;
    return undefined;
  }

  /** A state-changing request: its session, only when it also carries that session's CSRF token. */
  sessionForChange(req: IncomingMessage): Session | undefined {
    const session = this.session(req);
    const header = req.headers[CSRF_HEADER];
    const csrf = Array.isArray(header) ? header[0] : header;
    if (!session || csrf === undefined || !same(csrf, session.csrf)) return undefined;
    return session;
  }

  /** The Set-Cookie header of a new session. */
  cookie(session: Session): string {
    return `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/`;
  }

  logout(session: Session): void {
    this.sessions.delete(session.id);
  }

  clearCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  private secret(): string {
    return Buffer.from(this.random(32)).toString('base64url');
  }
}
