/**
 * `posbridge_retransmissions_total` on the dashboard's real listener (docs/dashboard.md,
 * "Metrics"): `posbridge daemon --http` run in-process as a person runs it, its own port manager
 * (config file, discovery, TerminalDriver, session: no stand-in), and a mock terminal whose
 * replies the `drop` fault loses (docs/mock.md). Every retransmission reaches the mock as a
 * replay of the reply it stored, so the mock's own count of replays is what the counter must say.
 */
import { EventEmitter } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDaemon } from '../../src/cli/commands/daemon.js';
import { productionDeps } from '../../src/cli/compose.js';
import type { CliDeps } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/program.js';
import type { MockLogger } from '../../src/mock-device/logger.js';
import { memoryIo } from '../support/memory-io.js';
import { fixedNow, MockWorld, scratchDir, seededBytes } from './api-rig.helper.js';

let dir: string;
let world: MockWorld;
/** What the mock terminals did with each request they received: `command`, `replayed`... */
const mockLines: string[] = [];
const mockLogger: MockLogger = {
  debug: () => undefined,
  info: (_fields, message) => void mockLines.push(message),
  warn: () => undefined,
  error: () => undefined,
};

beforeEach(() => {
  dir = scratchDir();
  mockLines.length = 0;
  world = new MockWorld({ logger: mockLogger });
});
afterEach(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

/** posbridge as main.ts runs it, in-process, over `world`'s mock:// terminals. */
function posbridge(argv: string[], signals?: EventEmitter) {
  const io = memoryIo({
    USER: 'tech-tester',
    NO_COLOR: '1',
    POSBRIDGE_AUDIT: join(dir, 'audit.sqlite3'),
    POSBRIDGE_SOCKET: join(dir, 'd.sock'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_RUNTIME_DIR: dir,
  });
  const deps: CliDeps = {
    ...productionDeps(io, world.mockPorts),
    now: fixedNow,
    hostname: () => 'station-test',
    randomBytes: seededBytes(),
    ...(signals && { signals }),
    result: { exitCode: 0 },
  };
  const program = buildProgram(deps);
  if (!program.commands.some((c) => c.name() === 'daemon')) registerDaemon(program, deps);
  const done = program.parseAsync(argv, { from: 'user' }).then(() => deps.result.exitCode);
  return { io, done };
}

/** The counter's samples, by `verb/reason`. */
function retransmissions(metrics: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const m of metrics.matchAll(/^posbridge_retransmissions_total\{(.*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    samples.set(`${labels.verb}/${labels.reason}`, Number(m[2]));
  }
  return samples;
}

const total = (samples: Map<string, number>) => [...samples.values()].reduce((a, b) => a + b, 0);

describe('posbridge_retransmissions_total over the dashboard listener', () => {
  it('goes from 0 to the number of replies the drop fault lost, by verb; no port or serial number', async () => {
    const config = join(dir, 'daemon.yaml');
    // No heartbeat: the only requests are the ones the test makes, so the counts can be compared.
    writeFileSync(config, 'ports: []\nwatch: []\ntimeouts: { requestMs: 100, heartbeatMs: 0 }\n');
    const signals = new EventEmitter();
    const daemon = posbridge(
      ['daemon', '--config', config, '--http', '127.0.0.1:0', '--log-level', 'silent'],
      signals,
    );
    await expect
      .poll(() => /^dashboard on (http:\/\/\S+);/m.test(daemon.io.out.join('')), { timeout: 10_000 })
      .toBe(true);
    await expect.poll(() => signals.listenerCount('SIGTERM'), { timeout: 5000 }).toBe(1);
    const origin = /^dashboard on (http:\/\/\S+);/m.exec(daemon.io.out.join(''))![1]!;
    const before = await (await fetch(`${origin}/metrics`)).text();
    expect(before).toMatch(/^# TYPE posbridge_retransmissions_total counter$/m);
    expect(total(retransmissions(before))).toBe(0);

    // A terminal that loses about a third of its replies (seeded: the same ones on every run).
    const port = 'mock://flaky?sn=PBRT0001&fault=drop:p=0.35&seed=11';
    const info = posbridge(['info', '--port', port, '--json']);
    expect(await info.done, info.io.err.join('')).toBe(0);
    expect(JSON.parse(info.io.out.join(''))).toMatchObject({ kind: 'info', port });

    // The session counts a retransmission as it sends it, the mock logs the replay as it reads
    // it: the two agree once the line is across (the port manager may still be refreshing STATUS).
    const replayed = () => mockLines.filter((line) => line === 'replayed').length;
    let after = '';
    await expect
      .poll(async () => {
        after = await (await fetch(`${origin}/metrics`)).text();
        return total(retransmissions(after)) - replayed();
      })
      .toBe(0);
    const samples = retransmissions(after);
    expect(total(samples)).toBeGreaterThanOrEqual(2);
    for (const key of samples.keys()) expect(key).toMatch(/^(HELLO|STATUS|LOGOUT)\/timeout$/);
    expect(after).not.toContain('flaky');
    expect(after).not.toContain('PBRT0001');

    signals.emit('SIGTERM');
    expect(await daemon.done).toBe(0);
  }, 30_000);
});
