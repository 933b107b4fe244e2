/**
 * Golden wire transcripts (test/fixtures/tsp-examples.json, the examples of docs/protocol.md)
 * replayed against the mock terminal, byte for byte: unpaced, on a virtual clock, DIAG at its
 * typical times (so `ms=` is exact), each example from its named setup on a fresh terminal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createMemoryLink,
  type MemoryHostEnd,
  MockTerminal,
  type MockTerminalOptions,
} from '../../src/mock-device/index.js';
import { VirtualClock } from '../../src/protocol/index.js';

interface Step {
  dir: 'C' | 'T';
  line: string;
  terminator: string;
  afterMs?: number;
  note?: string;
}
interface Setup {
  description: string;
  conditions: string[];
  steps: Step[];
}
interface Example {
  name: string;
  title: string;
  setup: string;
  description: string;
  steps: Step[];
}
interface Fixture {
  identity: { model: string; sn: string; fw: string };
  setups: Record<string, Setup>;
  examples: Example[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/tsp-examples.json', import.meta.url), 'utf8'),
) as Fixture;

/** Conditions are prose for people that name the mock option producing them. */
function optionsFor(conditions: string[]): MockTerminalOptions {
  const options: MockTerminalOptions = {};
  for (const condition of conditions) {
    const diagFail = /--diag-fail ([^`\s]+)/.exec(condition);
    if (diagFail) options.diagFaults = diagFail[1]!;
    else if (condition.includes('--tamper')) options.tamper = true;
    else throw new Error(`condition the test cannot set up: ${condition}`);
  }
  return options;
}

class Wire {
  private pending = '';

  constructor(
    private readonly host: MemoryHostEnd,
    private readonly clock: VirtualClock,
  ) {}

  /** The next line from the terminal with its terminator, running the terminal's timers while none is there. */
  next(): string | undefined {
    for (;;) {
      this.pending += this.host.read();
      const end = this.pending.indexOf('\n');
      if (end >= 0) {
        const line = this.pending.slice(0, end + 1);
        this.pending = this.pending.slice(end + 1);
        return line;
      }
      if (!this.clock.runNext()) return undefined;
    }
  }

  leftover(): string {
    return this.pending + this.host.read();
  }
}

function play(steps: Step[], host: MemoryHostEnd, wire: Wire, clock: VirtualClock, where: string): void {
  steps.forEach((step, index) => {
    if (step.afterMs !== undefined) clock.advance(step.afterMs);
    const label = `${where} step ${index + 1}${step.note ? ` (${step.note})` : ''}`;
    if (step.dir === 'C') {
      expect(wire.leftover(), `${label}: lines before the host speaks`).toBe('');
      host.write(Buffer.from(step.line + step.terminator, 'latin1'));
    } else {
      expect(wire.next(), label).toBe(step.line + step.terminator);
    }
  });
}

/**
 * Examples that need more than one connection: what the example's description says happens on
 * the other one, arranged around the replayed connection.
 */
const STAGING: Record<string, (terminal: MockTerminal) => void> = {
  'event-between-data': (terminal) => {
    const second = createMemoryLink('second connection');
    terminal.attach(second.link);
    second.host.write('LOGIN user=admin password=K7m.Vq29x\r\n');
    expect(second.host.read()).toBe('OK user=admin must_change=0\r\n');
    let firstDataSent = false;
    terminal.addBehaviour({
      name: 'INIT on the second connection between two DATA lines',
      onLine(connection, line) {
        if (connection.label === 'second connection' || line.kind !== 'reply') return undefined;
        if (line.text.startsWith('@12 DATA id=01')) firstDataSent = true;
        else if (firstDataSent && line.text.startsWith('@12 DATA id=02')) {
          second.host.write('INIT merchant=104110058120001 terminal=21017745\r\n');
        }
        return undefined;
      },
    });
  },
};

describe('TSP/1 examples against the mock terminal', () => {
  it('has examples to replay', () => {
    expect(fixture.examples.length).toBeGreaterThan(0);
  });

  for (const example of fixture.examples) {
    it(`${example.name}: ${example.title}`, () => {
      const setup = fixture.setups[example.setup];
      expect(setup, `setup ${example.setup}`).toBeDefined();
      const clock = new VirtualClock();
      const terminal = new MockTerminal({
        identity: fixture.identity,
        baud: 0,
        diagTimeScale: 1,
        clock,
        timers: clock,
        ...optionsFor(setup!.conditions),
      });
      const { link, host } = createMemoryLink('replayed connection');
      terminal.attach(link);
      const wire = new Wire(host, clock);
      play(setup!.steps, host, wire, clock, `setup ${example.setup}`);
      STAGING[example.name]?.(terminal);
      play(example.steps, host, wire, clock, example.name);
      expect(wire.leftover(), 'lines after the last step').toBe('');
      terminal.close();
    });
  }
});
