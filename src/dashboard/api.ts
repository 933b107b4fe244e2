/** The page's calls to the daemon: same origin, the session cookie, the CSRF token on changes. */
export class Api {
  constructor(private readonly csrf: string) {}

  static async connect(): Promise<Api | undefined> {
    const reply = await send('/api/session', { credentials: 'same-origin' });
    if (reply.status === 401) return undefined;
    const body = (await reply.json()) as { csrf: string };
    return new Api(body.csrf);
  }

  async get<T>(path: string): Promise<T> {
    const reply = await send(path, { credentials: 'same-origin' });
    if (!reply.ok) throw new Error(await problem(reply));
    return (await reply.json()) as T;
  }

  /** A state-changing call: JSON in, JSON out, the CSRF token in its header. */
  async post<T>(path: string, body: unknown): Promise<T> {
    const reply = await send(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body: JSON.stringify(body),
    });
    if (!reply.ok) throw new Error(await problem(reply));
    return (await reply.json()) as T;
  }
}

/** fetch, with a failure to reach the daemon said in words a person can act on (Chromium says "Failed to fetch"). */
async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new Error(`no answer from the daemon to ${path}: check that it still runs, then try again`);
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
