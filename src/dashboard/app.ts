/**
 * The dashboard page (docs/dashboard.md): the grid, live. It reads /api/status and follows
 * /api/events; any terminal or operation event schedules one fresh read of the status (the
 * daemon folds events into rows, so the page keeps no state of its own and cannot drift); the
 * station events go to the station section as they are. EventSource reconnects by itself and
 * resumes with Last-Event-ID; each time the stream opens, the station's state is read once.
 */
import { Api } from './api.js';
import { setUpHistory } from './history.js';
import { STATION_EVENTS, type StationEvent, setUpStation } from './station.js';
import { renderGrid } from './tiles.js';
import type { StatusRow } from './types.js';

const grid = document.getElementById('grid')!;
const banner = document.getElementById('banner')!;

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  banner.textContent = text;
  banner.className = `banner ${kind}`;
  banner.hidden = text === '';
}

async function main(): Promise<void> {
  const api = await Api.connect();
  if (!api) {
    say(
      'Not logged in: open the URL the daemon printed when it started (it holds a one-time token).',
      'error',
    );
    return;
  }
  const station = setUpStation(api);
  setUpHistory(api);
  let pending = false;
  const refresh = async () => {
    pending = false;
    try {
      const { terminals } = await api.get<{ terminals: StatusRow[] }>('/api/status');
      renderGrid(grid, terminals);
      document.body.dataset.ready = 'true';
    } catch (error) {
      say(`Could not read the bench: ${(error as Error).message}`, 'error');
    }
  };
  const schedule = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => void refresh(), 50);
  };
  const events = new EventSource('/api/events');
  const names = [
    'terminal-added',
    'terminal-updated',
    'terminal-removed',
    'operation-started',
    'step',
    'operation-finished',
    'resync',
  ];
  for (const name of names) events.addEventListener(name, schedule);
  for (const name of STATION_EVENTS)
    events.addEventListener(name, (message) => {
      try {
        station.observe(JSON.parse((message as MessageEvent<string>).data) as StationEvent);
      } catch {
        // A line the page cannot read: the next read of the state (a reconnect) puts it right.
      }
    });
  // Subscribed first, then read: nothing of the run falls between the two.
  events.onopen = () => {
    say('');
    void station
      .refresh()
      .catch((error: Error) => say(`Could not read the station run: ${error.message}`, 'error'));
  };
  events.onerror = () => say('Lost the daemon; reconnecting…', 'error');
  await refresh();
}

void main();
