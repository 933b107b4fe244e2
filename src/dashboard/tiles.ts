/**
 * One tile per terminal: identity, state, the current step with a progress bar, diagnostics as
 * coloured chips with the failing check's hint. A terminal pulled out stays, greyed.
 */
import { el } from './dom.js';
import type { DiagCheck, StatusRow } from './types.js';

/** The steps of a provisioning from factory state (docs/cli.md, `posbridge provision`). */
const PROVISION_STEPS = 11;

function chips(checks: DiagCheck[]): HTMLElement {
  const list = el('ul', { class: 'chips', 'aria-label': 'diagnostics' });
  for (const check of checks)
    list.append(el('li', { class: `chip ${check.status}`, title: check.hint ?? check.status }, check.check));
  return list;
}

function activity(row: StatusRow): HTMLElement | undefined {
  const now = row.activity;
  if (!now) return undefined;
  const step = now.step ? `${now.step.step} ${now.step.outcome}` : 'starting';
  const max = now.operation === 'provision' ? PROVISION_STEPS : Math.max(now.steps, 1);
  return el(
    'div',
    { class: 'activity' },
    el('span', {}, `${now.operation}: ${step}`),
    el('progress', {
      max: String(max),
      value: String(Math.min(now.steps, max)),
      'aria-label': `${now.operation} progress`,
    }),
  );
}

function tile(row: StatusRow): HTMLElement {
  const hello = row.hello;
  const last = row.lastResult;
  const failing = (last?.diagnostics ?? []).filter((c) => c.status !== 'pass' && c.hint);
  const status = row.status;
  const facts = [
    status && status.factoryPw.length > 0 ? `factory passwords: ${status.factoryPw.join(', ')}` : undefined,
    status?.locked
      ? 'locked'
      : status?.attemptsLeft !== undefined
        ? `${status.attemptsLeft} login attempts left`
        : undefined,
  ].filter((f): f is string => f !== undefined);
  return el(
    'article',
    {
      class: `tile cond-${row.condition}${row.state === 'gone' ? ' gone' : ''}`,
      'data-port': row.port,
      'data-condition': row.condition,
      tabindex: '0',
      'aria-label': `${hello?.sn ?? row.port}: ${row.condition}`,
    },
    el(
      'header',
      {},
      el('span', { class: 'sn' }, hello?.sn ?? '…'),
      el('span', { class: 'badge' }, row.condition),
    ),
    el(
      'div',
      { class: 'ident' },
      [hello?.model, hello?.fw && `fw ${hello.fw}`, row.port].filter(Boolean).join(' · '),
    ),
    facts.length ? el('div', { class: 'facts' }, facts.join(' · ')) : undefined,
    activity(row),
    last
      ? el(
          'div',
          { class: 'last' },
          `${last.operation} ${last.outcome}${last.detail ? `: ${last.detail}` : ''}`,
        )
      : undefined,
    row.error ? el('div', { class: 'last' }, row.error.message) : undefined,
    last?.diagnostics?.length ? chips(last.diagnostics) : undefined,
    ...failing.map((c) => el('p', { class: `hint ${c.status}` }, `${c.check}: ${c.hint}`)),
  );
}

/** Replaces the grid's tiles; a tile that had focus keeps it. */
export function renderGrid(grid: HTMLElement, rows: StatusRow[]): void {
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.port;
  const sorted = [...rows].sort((a, b) => a.port.localeCompare(b.port));
  grid.replaceChildren(
    ...(sorted.length ? sorted.map(tile) : [el('p', { class: 'empty' }, 'No terminals yet: plug one in.')]),
  );
  if (focused) grid.querySelector<HTMLElement>(`[data-port="${CSS.escape(focused)}"]`)?.focus();
}
