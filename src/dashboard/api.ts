/** The page's calls to the daemon: same origin, the session cookie, the CSRF token on changes. */
export class Api {
  constructor(private readonly csrf: string) {}

  static async connect(): Promise<Api | undefined> {
    const reply = await fetch('/api/session', { credentials: 'same-origin' });
    if (reply.status === 401) return undefined;
    const body = (await reply.json()) as { csrf: string };
    return new Api(body.csrf);
  }

  async get<T>(path: string): Promise<T> {
    const reply = await fetch(path, { credentials: 'same-origin' });
    if (!reply.ok) throw new Error(await problem(reply));
    return (await reply.json()) as T;
  }

  /** A state-changing call: JSON in, JSON out, the CSRF token in its header. */
  async post<T>(path: string, body: unknown): Promise<T> {
    const reply = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body: JSON.stringify(body),
    });
    if (!reply.ok) throw new Error(await problem(reply));
    return (await reply.json()) as T;
  }
}

async function problem(reply: Response): Promise<string> {
  try {
    const body = (await reply.json()) as { error?: { message?: string; hint?: string } };
    return [body.error?.message, body.error?.hint].filter(Boolean).join(': ') || `HTTP ${reply.status}`;
  } catch {
    return `HTTP ${reply.status}`;
  }
}
