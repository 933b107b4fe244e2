/**
 * `posbridge station` while a daemon runs: the daemon owns the ports, so the station watches the
 * daemon's terminal list and event stream and provisions through its API (the runtime's engine,
 * runtime.ts). Station needs nothing else: the same TerminalHub and Engine interfaces as in-process.
 */
import type { RemoteEngine } from '../daemon/api/client.js';
import type { HubEvent, TerminalInfo } from '../host/hub.js';
import type { StationHub } from '../station/index.js';

export async function daemonHub(remote: RemoteEngine): Promise<StationHub> {
  const terminals = new Map<string, TerminalInfo>();
  const listeners = new Set<(event: HubEvent) => void>();
  // Subscribe first, then read the list: a terminal plugged in between is not missed.
  const subscription = await remote.events((event) => {
    // A new subscription is never resynced (that answers a Last-Event-ID only).
    if (event.type === 'resync') return;
    if (event.type === 'terminal-added' || event.type === 'terminal-updated') {
      terminals.set(event.terminal.port, event.terminal);
    } else if (event.type === 'terminal-removed') {
      terminals.delete(event.terminal.port);
    }
    for (const listener of listeners) listener(event);
  });
  for (const terminal of await remote.terminals()) {
    if (!terminals.has(terminal.port)) terminals.set(terminal.port, terminal);
  }
  return {
    list: () => [...terminals.values()],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      subscription.close();
      remote.close();
    },
  };
}
