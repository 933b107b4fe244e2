/**
 * `posbridge __complete sn`: the serial numbers of the terminals a running daemon knows, one per
 * line, for the shell completions (bash.ts, zsh.ts, fish.ts). Shells run it at every TAB, so it
 * answers fast or not at all: no daemon, a stale socket, a socket that is not the user's own, a
 * daemon slower than the budget, an answer that is not what a daemon sends: it prints nothing
 * and exits 0. main.ts calls it before loading the rest of the CLI (~0.1 s instead of ~0.6 s),
 * and it uses only the socket module, not the API client (which loads the whole wire schema).
 */
import { request } from 'node:http';
import { isTrustedSocket, resolveSocketPath } from '../../daemon/api/socket.js';

/** What a person waits at most for a TAB that asks the daemon, in ms. */
export const COMPLETE_BUDGET_MS = 800;

/** A serial number as TSP/1 writes it (a bare token, docs/protocol.md): nothing a shell would run. */
const BARE_TOKEN = /^[A-Za-z0-9_.:,+/-]{1,64}$/;

export async function complete(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
  uid: number = process.getuid?.() ?? 0,
): Promise<number> {
  if (args[0] !== 'sn' || args.length !== 1) return 2;
  const location = resolveSocketPath(env, undefined, uid);
  if (!(await isTrustedSocket(location.path, uid))) return 0;
  const body = await getJson(location.path, '/v1/terminals', COMPLETE_BUDGET_MS);
  const sns = new Set<string>();
  const terminals = (body as { terminals?: unknown } | undefined)?.terminals;
  for (const terminal of Array.isArray(terminals) ? terminals : []) {
    const sn = (terminal as { hello?: { sn?: unknown } } | null)?.hello?.sn;
    if (typeof sn === 'string' && BARE_TOKEN.test(sn)) sns.add(sn);
  }
  if (sns.size > 0) write(`${[...sns].sort().join('\n')}\n`);
  return 0;
}

/** GET `path` on the Unix socket; undefined on any failure or after `timeoutMs`. */
function getJson(socketPath: string, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request({
      socketPath,
      path,
      method: 'GET',
      agent: false,
      headers: { accept: 'application/json' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(undefined);
    }, timeoutMs);
    const done = (value: unknown) => {
      clearTimeout(timer);
      resolve(value);
    };
    req.on('error', () => done(undefined));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 1024 * 1024) text += chunk;
      });
      res.on('error', () => done(undefined));
      res.on('end', () => {
        try {
          done(res.statusCode === 200 ? JSON.parse(text) : undefined);
        } catch {
          done(undefined);
        }
      });
    });
    req.end();
  });
}
