/**
 * `posbridge watch` prints one readable line for each event of the stream (docs/cli.md), the
 * station run's events from the dashboard included (docs/api.md, "Hub events").
 */
import { describe, expect, it } from 'vitest';
import { renderWatchLine } from '../../src/cli/bench-render.js';
import { noPaint } from '../../src/cli/station-live-view.js';

const at = new Date('2026-03-02T10:42:07.000Z');

describe('posbridge watch: the station run events', () => {
  it('says the start, each row and the end of a page station run', () => {
    expect(renderWatchLine({ type: 'station-started', manifest: 'bench.csv', rows: 2 }, at, noPaint)).toBe(
      '10:42:07 station run started: bench.csv, 2 rows',
    );
    expect(
      renderWatchLine(
        {
          type: 'station-progress',
          sn: 'PBM1',
          port: '/dev/ttyACM0',
          outcome: 'provisioned',
          done: 1,
          rows: 2,
        },
        at,
        noPaint,
      ),
    ).toBe('10:42:07 station run 1/2: PBM1 on /dev/ttyACM0 provisioned');
    expect(
      renderWatchLine(
        {
          type: 'station-ended',
          endedBy: 'signal',
          counts: { provisioned: 1, failed: 0, 'not-seen': 1 },
          rows: 2,
        },
        at,
        noPaint,
      ),
    ).toBe('10:42:07 station run ended (signal): 1 provisioned, 1 not-seen');
  });
});
