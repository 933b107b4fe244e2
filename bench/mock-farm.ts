/**
 * A process of mock terminals for the benchmarks, so that the process under measurement holds
 * only the host's side (as with real terminals, which are other machines).
 *
 *   node mock-farm.js --transport pty|tcp --count N --baud B --diag-time-scale S --dir DIR
 *
 * Prints one JSON line `{"type":"ready","pid":...,"ports":[...]}` once every terminal listens
 * (pty: a link DIR/pty-NNN per terminal, each with its python3 bridge; tcp: tcp://127.0.0.1:PORT).
 * Reads commands on stdin, one per line:
 *   fresh  every terminal is replaced by a factory-new one (for the next connection); answers
 *          `{"type":"fresh"}`
 *   loop   starts measuring how late this process's event loop runs (monitorEventLoopDelay)
 *   loop?  stops it; answers `{"type":"loop","p99Ms":...,"maxMs":...,"meanMs":...}` (lateness
 *          beyond the 20 ms sampling interval): the queue its one event loop puts every
 *          terminal's reply in, as the daemon's figure does for the host side
 *   quit   (or end of input) closes everything and exits.
 */
import path from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MockTerminal } from '../src/mock-device/index.js';
import { listenTcp, openPty } from '../src/mock-device/transports/index.js';

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'pty' },
    count: { type: 'string', default: '1' },
    baud: { type: 'string', default: '0' },
    'diag-time-scale': { type: 'string', default: '1' },
    dir: { type: 'string' },
  },
});

const count = Number(values.count);
const baud = Number(values.baud);
const diagTimeScale = Number(values['diag-time-scale']);
const transport = values.transport;
const dir = values.dir;
if (transport !== 'pty' && transport !== 'tcp') throw new Error(`unknown transport ${transport}`);
if (transport === 'pty' && !dir) throw new Error('--dir is required with --transport pty');

// openPty adds a process 'exit' listener per pty: dozens here are expected, not a leak.
process.setMaxListeners(count + 10);

const newTerminal = (i: number) =>
  new MockTerminal({ baud, diagTimeScale, identity: { sn: `BENCH${String(i).padStart(5, '0')}` } });

const terminals = Array.from({ length: count }, (_, i) => newTerminal(i));
const closers: Array<() => Promise<void>> = [];
const ports: string[] = [];

// Started a few at a time: 64 python interpreters starting at once on two cores crawl.
const BATCH = 8;
for (let start = 0; start < count; start += BATCH) {
  const batch = terminals.slice(start, start + BATCH).map(async (_, j) => {
    const i = start + j;
    const onLink = (link: Parameters<MockTerminal['attach']>[0]) => terminals[i]!.attach(link);
    if (transport === 'pty') {
      const pty = await openPty({ linkPath: path.join(dir!, `pty-${String(i).padStart(3, '0')}`) }, onLink);
      closers.push(() => pty.close());
      return pty.path;
    }
    const server = await listenTcp({ port: 0 }, onLink);
    closers.push(() => server.close());
    return `tcp://127.0.0.1:${server.address.port}`;
  });
  ports.push(...(await Promise.all(batch)));
}

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
say({ type: 'ready', pid: process.pid, ports });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(closers.map((close) => close().catch(() => undefined)));
  for (const terminal of terminals) terminal.close();
  process.exit(0);
}

/** As bench/scale.ts: a coarse resolution, so that the sampling timer costs next to nothing. */
const LOOP_RESOLUTION_MS = 20;
const lateness = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
let loop: IntervalHistogram | undefined;

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const command = line.trim();
  if (command === 'fresh') {
    for (let i = 0; i < terminals.length; i++) {
      terminals[i]!.close();
      terminals[i] = newTerminal(i);
    }
    say({ type: 'fresh' });
  } else if (command === 'loop') {
    loop?.disable();
    loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
  } else if (command === 'loop?') {
    loop?.disable();
    const h = loop;
    loop = undefined;
    say({
      type: 'loop',
      p99Ms: h ? lateness(h.percentile(99)) : 0,
      maxMs: h ? lateness(h.max) : 0,
      meanMs: h ? lateness(h.mean) : 0,
    });
  } else if (command === 'quit') void stop();
});
input.on('close', () => void stop());
