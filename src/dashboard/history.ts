/** The history section (docs/dashboard.md, "History"): runs from the audit trail, the chain's state. */
import type { Api } from './api.js';
import { el } from './dom.js';

interface Run {
  startedAt: string;
  port?: string;
  outcome?: string;
  terminal?: { sn?: string };
  steps: Array<{ step: string; outcome: string }>;
}
interface HistoryReply {
  file: string;
  runs: Run[];
  verify: { ok: boolean; rows: number; head?: string; problem?: { message?: string } };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function setUpHistory(api: Api): void {
  const form = $<HTMLFormElement>('history-form');
  const verify = $<HTMLElement>('history-verify');
  const body = $<HTMLTableElement>('history-runs').tBodies[0]!;
  const csv = $<HTMLAnchorElement>('history-csv');
  const show = async () => {
    const query = new URLSearchParams();
    for (const [name, id] of [
      ['sn', 'history-sn'],
      ['since', 'history-since'],
      ['until', 'history-until'],
    ] as const) {
      const value = $<HTMLInputElement>(id).value.trim();
      if (value) query.set(name, value);
    }
    csv.href = `/api/history/csv${query.has('since') ? `?since=${encodeURIComponent(query.get('since')!)}` : ''}`;
    try {
      const reply = await api.get<HistoryReply>(`/api/history?${query}`);
      verify.textContent = reply.verify.ok
        ? `Chain intact: ${reply.verify.rows} records in ${reply.file}, head ${reply.verify.head ?? '-'}`
        : `Chain BROKEN in ${reply.file}: ${reply.verify.problem?.message ?? 'see posbridge history --verify'}`;
      verify.className = reply.verify.ok ? 'ok' : 'fail';
      body.replaceChildren(
        ...reply.runs.map((run) =>
          el(
            'tr',
            {},
            el('td', {}, run.startedAt),
            el('td', {}, run.terminal?.sn ?? ''),
            el('td', {}, run.port ?? ''),
            el('td', {}, run.outcome ?? ''),
            el('td', {}, run.steps.map((s) => `${s.step} ${s.outcome}`).join(', ')),
          ),
        ),
      );
    } catch (error) {
      verify.textContent = `No history: ${(error as Error).message}`;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void show();
  });
  void show();
}
