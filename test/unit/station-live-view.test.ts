/**
 * The live view as pure functions (the model, a port's line, the TTY frame, the summary) and as a
 * writer: on a TTY the block is redrawn in place (checked on a small screen emulator: one line per
 * port, whatever happened), otherwise one plain line per change.
 */
import { describe, expect, it } from 'vitest';
import {
  applyStationEvent,
  formatPortLine,
  type LineLayout,
  LiveView,
  type Paint,
  type PortLine,
  renderStationSummary,
  renderTtyFrame,
} from '../../src/cli/station-live-view.js';
import type { StepRecord } from '../../src/host/workflow/report.js';
import type { StationEvent, StationRowResult, StationSummary } from '../../src/station/station.js';

const T = '2026-03-01T10:00:00.000Z';
const step = (name: StepRecord['step'], outcome: StepRecord['outcome'] = 'done'): StepRecord => ({
  step: name,
  outcome,
  detail: '',
  startedAt: T,
  finishedAt: T,
});
const result = (sn: string, port: string, extra: Partial<StationRowResult> = {}): StationRowResult => ({
  sn,
  where: 'line 2',
  merchant: '822100052110023',
  terminal: '10000001',
  port,
  outcome: 'provisioned',
  attempts: 1,
  diagnostics: { pass: 12, warn: 0, fail: 0 },
  ...extra,
});

/** A station's events for three ports: one provisioned, one failing diagnostics, one unknown. */
const EVENTS: StationEvent[] = [
  { type: 'port', port: 'mock://a', state: 'identifying' },
  { type: 'port', port: 'mock://b', state: 'identifying' },
  { type: 'port', port: 'mock://x', state: 'identifying' },
  { type: 'queued', port: 'mock://a', sn: 'PB001' },
  { type: 'started', port: 'mock://a', sn: 'PB001', attempt: 1 },
  { type: 'unknown', port: 'mock://x', sn: 'ZZ9' },
  { type: 'queued', port: 'mock://b', sn: 'PB002' },
  { type: 'started', port: 'mock://b', sn: 'PB002', attempt: 1 },
  { type: 'step', port: 'mock://a', sn: 'PB001', step: step('identify') },
  { type: 'step', port: 'mock://b', sn: 'PB002', step: step('identify') },
  { type: 'step', port: 'mock://a', sn: 'PB001', step: step('bind') },
  { type: 'finished', port: 'mock://a', sn: 'PB001', result: result('PB001', 'mock://a') },
  { type: 'step', port: 'mock://b', sn: 'PB002', step: step('diagnostics', 'failed') },
  {
    type: 'finished',
    port: 'mock://b',
    sn: 'PB002',
    result: result('PB002', 'mock://b', {
      outcome: 'failed',
      diagnostics: { pass: 11, warn: 0, fail: 1 },
      error: { code: 'CHECK_FAILED', message: 'provisioned, but diagnostics failed: printer paper_out' },
    }),
  },
  { type: 'port', port: 'mock://a', state: 'gone' },
];

function modelAfter(events: StationEvent[]) {
  return events.reduce((model, event) => applyStationEvent(model, event), new Map<string, PortLine>());
}

const LAYOUT: LineLayout = { portWidth: 8, snWidth: 6, stepWidth: 14 };

describe('applyStationEvent', () => {
  it('keeps one line per port, in order of appearance, with the last step and the outcome', () => {
    const model = modelAfter(EVENTS);
    expect([...model.values()]).toEqual([
      {
        port: 'mock://a',
        sn: 'PB001',
        phase: 'provisioned',
        attempt: 1,
        step: { name: 'bind', outcome: 'done' },
        note: 'diagnostics 12 pass, 0 warn, 0 fail',
        unplugged: true,
      },
      {
        port: 'mock://b',
        sn: 'PB002',
        phase: 'failed',
        attempt: 1,
        step: { name: 'diagnostics', outcome: 'failed' },
        note: 'provisioned, but diagnostics failed: printer paper_out',
        unplugged: false,
      },
      { port: 'mock://x', sn: 'ZZ9', phase: 'unknown' },
    ]);
  });

  it('does not change the model it is given', () => {
    const before = modelAfter(EVENTS.slice(0, 5));
    const copy = structuredClone([...before.values()]);
    applyStationEvent(before, EVENTS[5]!);
    expect([...before.values()]).toEqual(copy);
  });

  it('a new terminal on a port starts a fresh line; an unplug mid-run says so', () => {
    const model = modelAfter([
      ...EVENTS,
      { type: 'port', port: 'mock://a', state: 'identifying' },
      { type: 'started', port: 'mock://b', sn: 'PB002', attempt: 2 },
      { type: 'port', port: 'mock://b', state: 'gone' },
    ]);
    expect(model.get('mock://a')).toEqual({ port: 'mock://a', phase: 'identifying' });
    expect(model.get('mock://b')).toEqual({ port: 'mock://b', sn: 'PB002', phase: 'gone' });
  });
});

describe('formatPortLine', () => {
  it('writes port, sn, last step and state', () => {
    const model = modelAfter(EVENTS);
    expect([...model.values()].map((line) => formatPortLine(line, LAYOUT))).toEqual([
      'mock://a  PB001   bind done       provisioned: diagnostics 12 pass, 0 warn, 0 fail (unplugged)',
      'mock://b  PB002   diagnostics FAILED  FAILED: provisioned, but diagnostics failed: printer paper_out',
      'mock://x  ZZ9     -               unknown serial number: left untouched',
    ]);
    expect(formatPortLine({ port: 'p', phase: 'running', sn: 'S', attempt: 2 }, LAYOUT)).toBe(
      'p         S       -               running (attempt 2)',
    );
    expect(formatPortLine({ port: 'p', phase: 'queued', sn: 'S' }, LAYOUT)).toContain(
      'waiting for a free slot',
    );
  });

  it('colours the state only, and cuts the line to the width before colouring', () => {
    const paint: Paint = (colour, text) => `<${colour}>${text}</>`;
    const line: PortLine = { port: 'mock://a', sn: 'PB001', phase: 'failed', note: 'x'.repeat(100) };
    expect(formatPortLine(line, LAYOUT, paint)).toMatch(/^mock:\/\/a {2}PB001 {3}- {15}<red>FAILED<\/>: x+$/);
    const cut = formatPortLine(line, LAYOUT, paint, 50);
    expect(cut.replace(/<\/?[a-z]*>/g, '')).toHaveLength(49);
    expect(cut.endsWith('…')).toBe(true);
    const narrow = formatPortLine(line, LAYOUT, paint, 40);
    expect(narrow).toBe('mock://a  PB001   -               <red>FAIL…</>');
  });
});

describe('renderTtyFrame', () => {
  it('draws the first frame, then goes back up over the previous one', () => {
    expect(renderTtyFrame(['a', 'b'], 0)).toBe('\u001b[2Ka\n\u001b[2Kb\n\u001b[J');
    expect(renderTtyFrame(['a', 'b', 'c'], 2)).toBe(
      '\r\u001b[2A\u001b[2Ka\n\u001b[2Kb\n\u001b[2Kc\n\u001b[J',
    );
  });
});

/** Just enough of a VT100 for the live view: printable text, CR, LF, CUU (n A), EL 2 K, ED J. */
class Screen {
  private rows: string[] = [''];
  private row = 0;
  private col = 0;

  write(text: string): void {
    let i = 0;
    while (i < text.length) {
      const esc = /^\u001b\[(\d*)([A-Za-z])/.exec(text.slice(i));
      if (esc) {
        const n = Number(esc[1] || '1');
        if (esc[2] === 'A') this.row = Math.max(0, this.row - n);
        else if (esc[2] === 'K') this.rows[this.row] = '';
        else if (esc[2] === 'J')
          this.rows = this.rows
            .slice(0, this.row + 1)
            .map((r, k) => (k === this.row ? r.slice(0, this.col) : r));
        else if (esc[2] !== 'm') throw new Error(`unexpected escape ${JSON.stringify(esc[0])}`);
        i += esc[0].length;
        continue;
      }
      const c = text[i++]!;
      if (c === '\r') this.col = 0;
      else if (c === '\n') {
        this.row++;
        this.col = 0;
        while (this.rows.length <= this.row) this.rows.push('');
      } else {
        const line = this.rows[this.row]!.padEnd(this.col);
        this.rows[this.row] = line.slice(0, this.col) + c + line.slice(this.col + 1);
        this.col++;
      }
    }
  }

  get lines(): string[] {
    return this.rows.slice(0, this.rows.at(-1) === '' ? -1 : undefined);
  }
}

describe('LiveView', () => {
  it('on a TTY, redraws one line per port in place', () => {
    const screen = new Screen();
    screen.write('station: 2 terminals\n');
    const view = new LiveView((t) => screen.write(t), { tty: true, columns: () => 200 });
    for (const event of EVENTS) view.handle(event);
    expect(screen.lines).toEqual([
      'station: 2 terminals',
      expect.stringMatching(
        /^mock:\/\/a +PB001 +bind done +provisioned: diagnostics 12 pass.*\(unplugged\)$/,
      ),
      expect.stringMatching(
        /^mock:\/\/b +PB002 +diagnostics FAILED +FAILED: provisioned, but diagnostics failed/,
      ),
      expect.stringMatching(/^mock:\/\/x +ZZ9 +- +unknown serial number: left untouched$/),
    ]);
  });

  it('on a TTY, cuts lines to the terminal width so a redraw never wraps', () => {
    const writes: string[] = [];
    const view = new LiveView((t) => writes.push(t), { tty: true, columns: () => 40 });
    for (const event of EVENTS) view.handle(event);
    const frame = writes.at(-1)!;
    for (const line of frame.split('\n').slice(0, -1)) {
      expect(line.replace(/\r|\u001b\[\d*[A-Za-z]/g, '').length).toBeLessThan(40);
    }
  });

  it('otherwise appends one plain line per change, without escapes or repeats', () => {
    const out: string[] = [];
    const view = new LiveView((t) => out.push(t), { tty: false });
    for (const event of EVENTS) view.handle(event);
    const text = out.join('');
    expect(text).not.toContain('\u001b');
    const lines = text.trimEnd().split('\n');
    // 3 identifying + a queued, running, 3 steps/finished, unknown, b queued, running, 2 steps, finished, unplugged
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'mock://a -',
      'mock://b -',
      'mock://x -',
      'mock://a PB001',
      'mock://a PB001',
      'mock://x ZZ9',
      'mock://b PB002',
      'mock://b PB002',
      'mock://a PB001',
      'mock://b PB002',
      'mock://a PB001',
      'mock://a PB001',
      'mock://b PB002',
      'mock://b PB002',
      'mock://a PB001',
    ]);
    expect(lines.at(-1)).toMatch(/provisioned: .*\(unplugged\)$/);
    expect(new Set(lines).size).toBe(lines.length);
  });
});

describe('renderStationSummary', () => {
  it('counts, one line per row, hints, and what was left alone', () => {
    const summary: StationSummary = {
      kind: 'station',
      manifest: 'm.csv',
      technician: 'tech',
      station: 'bench-1',
      startedAt: T,
      finishedAt: T,
      endedBy: 'idle',
      counts: {
        provisioned: 1,
        'already-provisioned': 0,
        failed: 1,
        quarantined: 0,
        'not-seen': 1,
        'not-run': 0,
      },
      rows: [
        result('PB001', 'mock://a'),
        result('PB002', 'mock://b', {
          outcome: 'failed',
          error: {
            code: 'CHECK_FAILED',
            message: 'diagnostics failed: printer paper_out',
            hint: 'load paper',
          },
        }),
        {
          sn: 'PB003',
          where: 'line 4',
          merchant: '822100052110023',
          terminal: '10000003',
          outcome: 'not-seen',
          attempts: 0,
          error: { code: 'NOT_SEEN', message: 'not seen' },
        },
      ],
      unknown: [{ port: 'mock://x', sn: 'ZZ9', model: 'PB-MOCK' }],
      unidentified: [{ port: '/dev/ttyUSB3', error: { code: 'TIMEOUT', message: 'no answer' } }],
      auditHead: `21:${'c'.repeat(64)}`,
    };
    const text = renderStationSummary(summary);
    expect(text).toContain('station bench-1: 3 terminals in m.csv (no terminal left to run)');
    expect(text).toContain('1 provisioned, 0 already provisioned, 1 failed, 0 quarantined, 1 not seen\n');
    expect(text).toContain('  sn     port      outcome               diag p/w/f  error\n');
    expect(text).toContain('  PB001  mock://a  provisioned           12/0/0\n');
    expect(text).toContain(
      '  PB002  mock://b  FAILED                12/0/0      diagnostics failed: printer paper_out\n',
    );
    expect(text).toContain('  PB003  -         not seen              -           not seen\n');
    expect(text).toContain('what to do:\n    load paper\n');
    expect(text).toContain('sn ZZ9 (PB-MOCK) on mock://x');
    expect(text).toContain('/dev/ttyUSB3: no answer');
    // The run's anchor in the audit trail, last, to keep elsewhere (issue 9 item 7).
    expect(text.endsWith(`\n  audit head 21:${'c'.repeat(64)}\n`)).toBe(true);
    const { auditHead: _, ...unrecorded } = summary;
    expect(renderStationSummary(unrecorded)).not.toContain('audit head');
  });
});
