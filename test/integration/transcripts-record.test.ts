/**
 * Makes the golden transcripts of test/fixtures/transcripts (docs/evidence.md, "Transcripts"):
 *
 *   UPDATE_TRANSCRIPTS=1 npx vitest run test/integration/transcripts-record.test.ts
 *
 * Each scenario runs the real CLI in-process (runCli + productionDeps) with `--trace` against a
 * mock:// terminal, after its setup scenarios ran on the same terminal. Deterministic where it
 * matters: the mock's seed is fixed (1, or the scenario's), DIAG is instant, output unpaced, and
 * the terminal's clock is fixed at 2025-01-01T00:00:00Z (so TIME, DIAG `ms=` and `retry_after`
 * read the same every time). Request IDs, which the host picks at random, are renumbered from 1
 * (CRCs recomputed); timestamps stay the run's own. The secrets, masked in the trace, are
 * recovered from the terminal side of the run and named in the header so that the replay can put
 * them back.
 *
 * Without UPDATE_TRANSCRIPTS=1 this file is skipped: the transcripts are golden, checked by
 * transcripts-replay.test.ts and transcripts-cli.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MockBehaviour } from '../../src/mock-device/index.js';
import {
  formatTraceEntry,
  maskedCount,
  parseTrace,
  readdress,
  type StdinStep,
  type TraceEntry,
  tracedForm,
} from '../../src/mock-device/replay/index.js';
import { asciiOf, parseLine, splitCrc, VIRTUAL_EPOCH } from '../../src/protocol/index.js';
import {
  CREDENTIALS,
  fillCommand,
  formatResult,
  PORT,
  summarize,
  TranscriptCli,
} from '../fixtures/transcripts/cli.js';
import { MERCHANT, TERMINAL } from '../support/constants.js';

const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';
const DIR = resolve(import.meta.dirname, '../fixtures/transcripts');

const ADMIN = 'Adm1n-2026';
const WRONG = 'Wr0ng-Pass-26';
/** Names for the secrets the scenarios use; anything else is a generated operator password. */
const NAMED: Record<string, string> = {
  '1234': 'factory-admin',
  '123456': 'factory-operator',
  [ADMIN]: 'admin',
  [WRONG]: 'wrong-admin',
};

const PROVISION = [
  'provision',
  '--port',
  PORT,
  '--merchant',
  MERCHANT,
  '--terminal',
  TERMINAL,
  '--admin-password-stdin',
  '--credentials-out',
  CREDENTIALS,
  '--json',
];
const CONSOLE = ['console', '--port', PORT, '--no-history'];
const typed = (...lines: Array<string | number>): StdinStep[] =>
  lines.map((line) => (typeof line === 'number' ? { pauseMs: line } : { line }));

interface Scenario {
  name: string;
  shows: string[];
  setup: string[];
  mock: Array<[string, string]>;
  command: string[];
  stdin: StdinStep[];
  /** What the run must reach, and lines the trace must hold (else the scenario shows nothing). */
  expect: Record<string, string>;
  mustShow: RegExp[];
}

/**
 * The seed of `drop:p=0.1` under which, of the factory provisioning's requests, only the 6th
 * (PASSWD, the admin password change) loses its reply, and its retransmission does not.
 */
const DROP_SEED = 1180;
/** The request that `reboot-at` interrupts: the admin PASSWD again. */
const PASSWD_SEQ = 6;

const SCENARIOS: Scenario[] = [
  {
    name: 'provision-factory',
    shows: [
      'A factory-fresh terminal provisioned end to end by `posbridge provision` with the default profile:',
      'identify (HELLO, STATUS), log in with the factory admin password, replace it (PASSWD), bind the',
      'numbers (INIT, EVT state), set the clock (TIME), give operator 01 a generated password, run DIAG',
      '(every check passes or warns), read back (STATUS), log out.',
    ],
    setup: [],
    mock: [],
    command: PROVISION,
    stdin: typed(ADMIN),
    expect: { exit: '0', outcome: 'provisioned' },
    mustShow: [/> .*PASSWD old="\*\*\*" new="\*\*\*"/, /< EVT state state=initialized/, /< .*OK pass=/],
  },
  {
    name: 'provision-rerun',
    shows: [
      'The same `posbridge provision` run again on the terminal it just provisioned: it reads the state,',
      'logs in with the new admin password, finds every step already done, changes nothing.',
    ],
    setup: ['provision-factory'],
    mock: [],
    command: PROVISION,
    stdin: typed(ADMIN),
    expect: { exit: '0', outcome: 'already-provisioned' },
    mustShow: [/factory_pw=none/],
  },
  {
    name: 'wrong-password',
    shows: [
      '`posbridge provision` given a wrong admin password for a provisioned terminal: the terminal answers',
      'LOGIN with 401 bad-credentials remaining=4 and posbridge stops at once, never resending the password.',
    ],
    setup: ['provision-factory'],
    mock: [],
    command: PROVISION,
    stdin: typed(WRONG),
    expect: { exit: '1', outcome: 'failed', error: 'BAD_CREDENTIALS' },
    mustShow: [/ERR code=401 reason=bad-credentials remaining=4/],
  },
  {
    name: 'lockout',
    shows: [
      'A person in `posbridge console` types a wrong admin password five times: 401 remaining=4 ... 0, then',
      'EVT lockout retry_after=300; LOGIN with the right password is now 423 locked; STATUS says locked=1.',
    ],
    setup: ['provision-factory'],
    mock: [],
    command: CONSOLE,
    stdin: typed(
      ...Array.from({ length: 5 }, () => `LOGIN user=admin password=${WRONG}`),
      `LOGIN user=admin password=${ADMIN}`,
      'STATUS',
    ),
    expect: { exit: '0' },
    mustShow: [/remaining=0/, /< EVT lockout retry_after=300/, /ERR code=423 reason=locked/, /locked=1/],
  },
  {
    name: 'locked-provision',
    shows: [
      '`posbridge provision` on the terminal the console locked: STATUS says locked=1, so posbridge stops',
      'before sending any password (exit 4) instead of spending attempts.',
    ],
    setup: ['provision-factory', 'lockout'],
    mock: [],
    command: PROVISION,
    stdin: typed(ADMIN),
    expect: { exit: '4', error: 'LOCKED' },
    mustShow: [/locked=1/],
  },
  {
    name: 'dropped-reply',
    shows: [
      'Factory provisioning on a line that loses a reply: the OK of the admin PASSWD never arrives; after',
      'its 400 ms timeout posbridge retransmits the same bytes with the same ID, and the terminal answers',
      'from its replay cache (the password is changed once, no attempt is spent). The run then completes.',
    ],
    setup: [],
    mock: [
      ['fault', 'drop:p=0.1'],
      ['seed', String(DROP_SEED)],
    ],
    command: [...PROVISION, '--timeout', '400'],
    stdin: typed(ADMIN),
    expect: { exit: '0', outcome: 'provisioned' },
    mustShow: [],
  },
  {
    name: 'reboot',
    shows: [
      'REBOOT typed in `posbridge console` by the admin: OK, then STATUS while the terminal is down gets',
      '503 not-ready; EVT boot sn=PBM0000001 announces it is back; STATUS then shows the login gone.',
    ],
    setup: ['provision-factory'],
    mock: [],
    command: CONSOLE,
    stdin: typed(`LOGIN user=admin password=${ADMIN}`, 'REBOOT', 'STATUS', 1200, 'STATUS'),
    expect: { exit: '0' },
    mustShow: [/ERR code=503 reason=not-ready/, /< EVT boot sn=PBM0000001/, /login=none/],
  },
  {
    name: 'reboot-mid-command',
    shows: [
      'The terminal reboots in the middle of the admin PASSWD (mock fault reboot-at, down 0.9 s): no reply;',
      'after the 200 ms timeout posbridge retransmits and gets 503 not-ready, backs off and retries, then',
      'EVT boot arrives: the terminal may or may not have run the PASSWD and its replay cache is gone, so',
      'posbridge does not send it again. It identifies the terminal again: STATUS no longer lists the',
      'factory admin (the PASSWD ran), so it logs in with the new password and the run goes on (exit 0).',
    ],
    setup: [],
    // Down under a second: the replay's virtual clock then still reads the same second at TIME.
    mock: [
      ['fault', `reboot-at:n=${PASSWD_SEQ}`],
      ['reboot-ms', '900'],
    ],
    command: [...PROVISION, '--timeout', '200'],
    stdin: typed(ADMIN),
    expect: { exit: '0', outcome: 'provisioned' },
    mustShow: [
      /ERR code=503 reason=not-ready/,
      /< EVT boot sn=PBM0000001[\s\S]*> @\d+ HELLO[\s\S]*factory_pw=01 [\s\S]*> @\d+ LOGIN user=admin/,
    ],
  },
  {
    name: 'diag-printer',
    shows: [
      '`posbridge diag` on a provisioned terminal whose printer is out of paper: DIAG streams a DATA line',
      'per check, printer fails with code paper_out and its hint (host warns: not configured), then',
      'OK pass=10 warn=1 fail=1; exit 1.',
    ],
    setup: ['provision-factory'],
    mock: [['diag-fail', 'printer:paper_out']],
    command: ['diag', '--port', PORT, '--admin-password-stdin', '--json'],
    stdin: typed(ADMIN),
    expect: { exit: '1', fail: '1' },
    mustShow: [/check=printer status=fail code=paper_out/, /OK pass=10 warn=1 fail=1/],
  },
];

const FIXED_CLOCK = { now: () => VIRTUAL_EPOCH };

describe.skipIf(!UPDATE)('golden transcripts: regenerate (UPDATE_TRANSCRIPTS=1)', () => {
  for (const scenario of SCENARIOS) {
    it(
      scenario.name,
      async () => writeFileSync(join(DIR, `${scenario.name}.trace`), await record(scenario)),
      60_000,
    );
  }
});

async function record(scenario: Scenario): Promise<string> {
  const raws = new Map<string, string>();
  const capture: MockBehaviour = {
    name: 'transcript-capture',
    onRequest: ({ request }) => {
      raws.set(tracedForm(request.raw), request.raw);
      return undefined;
    },
  };
  const cli = new TranscriptCli({ clock: FIXED_CLOCK, behaviours: [capture] });
  try {
    const query = new URLSearchParams(scenario.mock).toString();
    const values = {
      port: `mock://${scenario.name}${query ? `?${query}` : ''}`,
      credentials: join(cli.dir, 'ops.txt'),
    };
    for (const name of scenario.setup) {
      const setup = SCENARIOS.find((s) => s.name === name)!;
      const run = await cli.run(fillCommand(setup.command, values), setup.stdin);
      // Under the scenario's own mock options a setup may end otherwise (a failing check: 1).
      expect([0, 1, 4], `setup ${name}: ${run.stdout}${run.stderr}`).toContain(run.code);
    }
    const tracePath = join(cli.dir, 'wire.trace');
    const run = await cli.run(
      [...fillCommand(scenario.command, values), '--trace', tracePath],
      scenario.stdin,
    );
    const result = summarize(run);
    expect(result, `${run.stdout}\n${run.stderr}`).toMatchObject(scenario.expect);
    const trace = parseTrace(readFileSync(tracePath, 'utf8'));
    const body = trace.entries.map((e) => `${e.direction} ${e.text}`).join('\n');
    for (const pattern of scenario.mustShow) expect(body).toMatch(pattern);
    return transcript(scenario, trace.entries, raws, result);
  } finally {
    cli.dispose();
  }
}

function transcript(
  scenario: Scenario,
  entries: TraceEntry[],
  raws: Map<string, string>,
  result: Record<string, string>,
): string {
  // Secrets: each masked value of a host line, from the line the terminal received.
  const names = new Map<string, string>();
  const used: string[] = [];
  let generated = 0;
  for (const entry of entries) {
    if (entry.direction !== '>' || maskedCount(entry.text) === 0) continue;
    const raw = raws.get(entry.text);
    if (raw === undefined) throw new Error(`${scenario.name}: no received line for ${entry.text}`);
    for (const value of secretValues(entry.text, raw)) {
      let name = names.get(value) ?? NAMED[value];
      if (name === undefined) name = `generated-${++generated}`;
      names.set(value, name);
      used.push(name);
    }
  }
  // IDs renumbered from 1 in order of first use. Timestamps stay the run's own: with the TIME
  // replies they say how far the terminal's clock was from the host's (the replay keeps that).
  const ids = new Map<string, string>();
  const renumber = (id: string): string => {
    if (!ids.has(id)) ids.set(id, String(ids.size + 1));
    return ids.get(id)!;
  };
  const lines = entries.map((entry) => {
    const text = readdress(entry.text, {
      mapId: (id) => (entry.direction === '>' ? renumber(id) : ids.get(id)),
      crc: splitCrc(entry.text) !== undefined,
    });
    return formatTraceEntry({
      direction: entry.direction,
      text,
      ...(entry.at !== undefined && { at: entry.at }),
    });
  });

  const header = [
    `transcript: ${scenario.name}`,
    ...scenario.shows.map((line) => `shows: ${line}`),
    'made: UPDATE_TRANSCRIPTS=1 npx vitest run test/integration/transcripts-record.test.ts: the posbridge CLI',
    'made: in-process (runCli + productionDeps) with --trace, against a mock:// terminal (unpaced, DIAG',
    'made: instant, its clock fixed at 2025-01-01T00:00:00Z, seed 1 unless `mock:` says otherwise),',
    'made: after the `setup:` transcripts ran on the same terminal.',
    'normalized: request IDs renumbered from 1 in order of first use (CRCs recomputed); timestamps are',
    "normalized: the run's own (the host's clock; the terminal's was fixed, see TIME).",
    `command: posbridge ${scenario.command.join(' ')}`,
    ...scenario.stdin.map((step) =>
      step.pauseMs !== undefined ? `pause: ${step.pauseMs}` : `stdin: ${step.line}`,
    ),
    `setup: ${scenario.setup.length > 0 ? scenario.setup.join(' ') : 'factory'}`,
    ...scenario.mock.map(([key, value]) => `mock: ${key}=${value}`),
    ...[...names].map(([value, name]) => `secret: ${name} = ${value}`),
    ...(used.length > 0 ? [`secrets-used: ${used.join(' ')}`] : []),
    `result: ${formatResult(result)}`,
  ];
  return `${header.map((line) => `# ${line}`).join('\n')}\n${lines.join('\n')}\n`;
}

/** The values a masked line hides, read from the same line as received. */
function secretValues(traced: string, raw: string): string[] {
  const masked = parseLine(traced);
  const clear = parseLine(raw);
  if (!masked.ok || !clear.ok) throw new Error(`cannot read ${traced}`);
  const values: string[] = [];
  masked.line.fields.forEach((field, index) => {
    if (asciiOf(field.value) !== '***') return;
    const value = clear.line.fields[index];
    if (!value || value.key !== field.key) throw new Error(`fields differ: ${traced} / ${tracedForm(raw)}`);
    values.push(Buffer.from(value.value).toString('latin1'));
  });
  return values;
}
