/**
 * The station run form (docs/dashboard.md, "Station run"): a manifest and a profile chosen or
 * dropped, the admin password typed, one POST. The password leaves the field for that request
 * body only: the field is emptied at once, and it is never kept in a variable, storage or URL.
 */
import type { Api } from './api.js';

interface StationState {
  state: 'idle' | 'running' | 'ended';
  rows: unknown[];
  summary?: { counts: Record<string, number>; endedBy: string };
  credentialsFile?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function fileOf(file: File | undefined): Promise<{ name: string; text: string } | undefined> {
  return file ? { name: file.name, text: await file.text() } : undefined;
}

export function setUpStation(api: Api): { refresh(): Promise<void> } {
  const form = $<HTMLFormElement>('station-form');
  const manifestInput = $<HTMLInputElement>('manifest');
  const profileInput = $<HTMLInputElement>('profile');
  const password = $<HTMLInputElement>('admin-password');
  const start = $<HTMLButtonElement>('station-start');
  const stop = $<HTMLButtonElement>('station-stop');
  const status = $<HTMLElement>('station-status');
  const results = $<HTMLElement>('station-results');
  const dropped: { manifest?: File; profile?: File } = {};

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

  const refresh = async () => {
    const state = await api.get<StationState>('/api/station');
    start.disabled = state.state === 'running';
    stop.disabled = state.state !== 'running';
    results.hidden = state.state !== 'ended';
    const where = state.credentialsFile
      ? ` Generated operator passwords go to ${state.credentialsFile} on the daemon's machine.`
      : '';
    if (state.state === 'running') status.textContent = `Running: ${state.rows.length} done so far.${where}`;
    else if (state.summary) {
      const counts = Object.entries(state.summary.counts)
        .filter(([, n]) => n > 0)
        .map(([outcome, n]) => `${n} ${outcome}`)
        .join(', ');
      status.textContent = `Ended (${state.summary.endedBy}): ${counts}.${where}`;
    }
    document.body.dataset.station = state.state;
    // The run's end is no hub event: while it runs, look again each second.
    if (state.state === 'running') setTimeout(() => void refresh().catch(() => undefined), 1000);
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
      const body = { manifest, ...(profile && { profile }), adminPassword: password.value };
      password.value = '';
      start.disabled = true;
      try {
        await api.post('/api/station', body);
        await refresh();
      } catch (error) {
        status.textContent = `Not started: ${(error as Error).message}`;
        start.disabled = false;
      }
    })();
  });
  stop.addEventListener('click', () => void api.post('/api/station/stop', {}).then(refresh));
  return { refresh };
}
