/**
 * The station run form (docs/dashboard.md, "Station run"): a manifest and a profile chosen or
 * dropped, the admin password typed, one POST. The password leaves the field for that request
 * body only: the field is emptied at once, and it is never kept in a variable, storage or URL.
 *
 * The run's start, progress and end come as events on the daemon's stream (docs/api.md, "Hub
 * events": station-started, station-progress, station-ended); GET /api/station is read once when
 * the stream opens (on load and after a reconnect), so a reload mid-run still shows the run.
 */
import type { Api } from './api.js';

interface StationState {
  state: 'idle' | 'running' | 'ended';
  rows: unknown[];
  /** The run's manifest rows (once one was started). */
  total?: number;
  summary?: { counts: Record<string, number>; endedBy: string };
  credentialsFile?: string;
}

/** The station events the page follows (docs/api.md): the daemon's hub events of the page's run. */
export type StationEvent =
  | { type: 'station-started'; manifest: string; rows: number }
  | { type: 'station-progress'; sn: string; outcome: string; done: number; rows: number }
  | { type: 'station-ended'; endedBy: string; counts: Record<string, number>; rows: number };

export const STATION_EVENTS = ['station-started', 'station-progress', 'station-ended'] as const;

/** What the section shows: the run's state, how far it got, how it ended. */
type View =
  | { state: 'idle' }
  | { state: 'running'; done: number; rows?: number }
  | { state: 'ended'; endedBy: string; counts: Record<string, number> };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function fileOf(file: File | undefined): Promise<{ name: string; text: string } | undefined> {
  return file ? { name: file.name, text: await file.text() } : undefined;
}

export interface StationSection {
  /** Reads the run's state once (the stream opened: on load, after a reconnect). */
  refresh(): Promise<void>;
  /** One station event from the stream. */
  observe(event: StationEvent): void;
}

export function setUpStation(api: Api): StationSection {
  const form = $<HTMLFormElement>('station-form');
  const manifestInput = $<HTMLInputElement>('manifest');
  const profileInput = $<HTMLInputElement>('profile');
  const password = $<HTMLInputElement>('admin-password');
  const again = $<HTMLInputElement>('admin-password-again');
  const start = $<HTMLButtonElement>('station-start');
  const stop = $<HTMLButtonElement>('station-stop');
  const status = $<HTMLElement>('station-status');
  const results = $<HTMLElement>('station-results');
  const dropped: { manifest?: File; profile?: File } = {};
  let credentialsFile: string | undefined;
  /** Station events seen: a read that started before the latest one is out of date. */
  let seen = 0;

  const drop = $<HTMLElement>('drop');
  form.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  form.addEventListener('dragleave', () => drop.classList.remove('over'));
  form.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    for (const file of event.dataTransfer?.files ?? []) {
      if (/\.(ya?ml)$/i.test(file.name) || (/\.json$/i.test(file.name) && dropped.manifest))
        dropped.profile = file;
      else dropped.manifest = file;
    }
    drop.textContent = `Dropped: ${[dropped.manifest?.name, dropped.profile?.name].filter(Boolean).join(', ')}`;
    manifestInput.required = !dropped.manifest;
  });

  /** What the section shows now: a failed Stop is said over it without changing it. */
  let shown: View = { state: 'idle' };
  /** Why the last Stop failed: said on the running line until Stop is pressed again or the run ends. */
  let stopFailure: string | undefined;

  const show = (view: View) => {
    shown = view;
    if (view.state !== 'running') stopFailure = undefined;
    start.disabled = view.state === 'running';
    stop.disabled = view.state !== 'running';
    // An end without a summary (the run broke) has no results to download.
    results.hidden = view.state !== 'ended' || view.endedBy === 'error';
    const where = credentialsFile
      ? ` Generated operator passwords go to ${credentialsFile} on the daemon's machine.`
      : '';
    // The failure first, and kept as progress comes in: a user who pressed Stop must not go on
    // believing the run is stopping while it still takes terminals.
    const failed =
      stopFailure === undefined ? '' : `Not stopped (the run goes on taking terminals): ${stopFailure}. `;
    if (view.state === 'running')
      status.textContent = `${failed}Running: ${view.done}${view.rows === undefined ? '' : ` of ${view.rows}`} done so far.${where}`;
    else if (view.state === 'ended') {
      const counts = Object.entries(view.counts)
        .filter(([, n]) => n > 0)
        .map(([outcome, n]) => `${n} ${outcome}`)
        .join(', ');
      status.textContent =
        view.endedBy === 'error'
          ? "The run broke off: see the daemon's log."
          : `Ended (${view.endedBy}): ${counts}.${where}`;
    }
    document.body.dataset.station = view.state;
  };

  const refresh = async () => {
    const before = seen;
    const state = await api.get<StationState>('/api/station');
    credentialsFile = state.credentialsFile;
    if (seen !== before) return;
    if (state.state === 'running')
      show({
        state: 'running',
        done: state.rows.length,
        ...(state.total !== undefined && { rows: state.total }),
      });
    else if (state.summary) show({ state: 'ended', ...state.summary });
    else show({ state: 'idle' });
  };

  const observe = (event: StationEvent) => {
    seen++;
    if (event.type === 'station-started') show({ state: 'running', done: 0, rows: event.rows });
    else if (event.type === 'station-progress')
      show({ state: 'running', done: event.done, rows: event.rows });
    else show({ state: 'ended', endedBy: event.endedBy, counts: event.counts });
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const manifest = await fileOf(dropped.manifest ?? manifestInput.files?.[0]);
      const profile = await fileOf(dropped.profile ?? profileInput.files?.[0]);
      if (!manifest) {
        status.textContent = 'Choose or drop a manifest first.';
        return;
      }
      // Typed twice, as the command line asks: a typo would leave every terminal of the run with
      // an admin password nobody knows. A mismatch is never sent.
      if (password.value !== again.value) {
        password.value = '';
        again.value = '';
        status.textContent =
          'The two passwords differ: type the same new admin password twice. Nothing was sent.';
        password.focus();
        return;
      }
      const body = { manifest, ...(profile && { profile }), adminPassword: password.value };
      password.value = '';
      again.value = '';
      start.disabled = true;
      const before = seen;
      try {
        const reply = await api.post<{ rows: number; credentialsFile?: string }>('/api/station', body);
        credentialsFile = reply.credentialsFile;
        // Its events say how it goes; until the first one arrives, it has started.
        if (seen === before) show({ state: 'running', done: 0, rows: reply.rows });
      } catch (error) {
        status.textContent = `Not started: ${(error as Error).message}`;
        start.disabled = false;
      }
    })();
  });
  stop.addEventListener('click', () => {
    stopFailure = undefined;
    show(shown);
    void api.post('/api/station/stop', {}).catch((error: Error) => {
      // Said as a failed Start is: what failed, and the daemon's hint of what to do.
      if (shown.state !== 'running') return; // It ended meanwhile: nothing is left to stop.
      stopFailure = error.message;
      show(shown);
    });
  });
  return { refresh, observe };
}
