/**
 * `posbridge conformance` as a person or a CI job runs it (in-process, production composition):
 * it passes the mock terminal, prints a line per check and a summary, writes --json and --junit,
 * asks before erasing (and sends nothing when nobody can be asked), and follows posbridge's rules
 * for the admin password.
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_CHECKS, GROUPS } from '../../src/conformance/index.js';
import type { MockBehaviour } from '../../src/mock-device/index.js';
import { appendCrc, splitCrc } from '../../src/protocol/index.js';
import { ADMIN_PASSWORD, CliHarness, STACK_LINE } from '../support/cli-inproc.js';

let h: CliHarness;
beforeEach(() => {
  h = new CliHarness({ diagTimeScale: 0, rebootMs: 50 });
});
afterEach(() => h.dispose());

const CI = ['--yes-erase-this-terminal'];

/** A TCP port nothing listens on, and one that counts who connects (and sends nothing back). */
async function countingServer(): Promise<{
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `tcp://127.0.0.1:${port}`,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('posbridge conformance against the mock terminal (mock://)', () => {
  it('passes every check: a line per check with its section, and a summary to attach', async () => {
    const junit = join(h.dir, 'tsp1.xml');
    const run = await h.run(['conformance', '--port', 'mock://good', ...CI, '--junit', junit]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('PB-MOCK sn PBM0000001 fw 1.0.0 on mock://good');
    for (const c of ALL_CHECKS) {
      const line = lines.find((l) => l.startsWith(`PASS  ${c.id} `));
      expect(line, c.id).toBeDefined();
      expect(line).toContain(c.section);
    }
    expect(run.stdout).toContain('TSP/1 conformance summary');
    expect(run.stdout).toMatch(/terminal {7}model PB-MOCK, sn PBM0000001, fw 1\.0\.0/);
    expect(run.stdout).toMatch(/posbridge {6}0\.1\.0/);
    expect(run.stdout).toContain(
      'specification  TSP/1, docs/protocol.md (Decisions D1-D52, worked examples 1-42)',
    );
    expect(run.stdout).toContain(`result         PASSED: all ${ALL_CHECKS.length} checks passed`);
    expect(run.stdout).toMatch(/duration {7}[0-9]+\.[0-9] s/);
    expect(run.stdout).toContain('left in factory state (RESET at the end)');

    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(
      `<testsuites name="TSP/1 conformance of PB-MOCK sn PBM0000001" tests="${ALL_CHECKS.length}" failures="0"`,
    );
    expect(xml.match(/<testsuite /g)).toHaveLength(GROUPS.length);
    expect(xml.match(/<testcase /g)).toHaveLength(ALL_CHECKS.length);
    expect(xml).toContain('<testcase classname="tsp1.framing" name="framing.cr-alone (§3)"');
    expect(xml).not.toContain('<failure');

    // The terminal is left as it came: factory state.
    const info = await h.run(['info', '--port', 'mock://good', '--json']);
    expect(JSON.parse(info.stdout).status).toMatchObject({ state: 'factory', factoryPw: ['admin', '01'] });
  }, 120_000);

  it('--json is one document: identity, versions, counts, every result', async () => {
    const run = await h.run([
      'conformance',
      '--port',
      'mock://json',
      ...CI,
      '--only',
      'auth,lockout',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      kind: 'conformance',
      port: 'mock://json',
      terminal: { model: 'PB-MOCK', sn: 'PBM0000001', fw: '1.0.0' },
      posbridge: '0.1.0',
      spec: { protocol: 'TSP/1', document: 'docs/protocol.md' },
      groups: ['auth', 'lockout'],
      finalReset: 'done',
    });
    const ids = ALL_CHECKS.filter((c) => c.group === 'auth' || c.group === 'lockout').map((c) => c.id);
    expect(report.results.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(report.counts).toEqual({ total: ids.length, pass: ids.length, fail: 0, skip: 0 });
    expect(report.durationMs).toBeGreaterThan(0);
  }, 60_000);

  it('a failed check: exit 1, what was expected, what came, the wire lines, secrets masked', async () => {
    const port = `mock://weak?fault=${encodeURIComponent('violate:rule=weak-straight-run')}`;
    const run = await h.run(['conformance', '--port', port, ...CI, '--only', 'policy', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const failed = report.results.find((r: { id: string }) => r.id === 'policy.straight-run-up');
    expect(failed.outcome).toBe('fail');
    expect(failed.failure.message).toBe('234567: expected ERR code=422 reason=weak-password');
    expect(failed.failure.expected).toBe('ERR code=422 reason=weak-password');
    expect(failed.failure.got).toMatch(/^@[0-9]+ OK \*[0-9A-F]{4}$/);
    expect(failed.failure.wire[0]).toMatch(/^C: @[0-9]+ PASSWD old="\*\*\*" new="\*\*\*" \*[0-9A-F]{4}$/);
    expect(run.stdout).not.toContain('Tsp1.Conform-9x');
    expect(report.counts.fail).toBeGreaterThan(0);

    const text = await h.run(['conformance', '--port', port, ...CI, '--only', 'policy']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/FAIL {2}policy\.straight-run-up +§14 rule 5/);
    expect(text.stdout).toContain('        expected: ERR code=422 reason=weak-password');
    expect(text.stdout).toMatch(/ {8}C: @[0-9]+ PASSWD old="\*\*\*" new="\*\*\*"/);
    expect(text.stdout).toMatch(
      /result {9}FAILED: [0-9]+ of [0-9]+ checks passed, [1-9][0-9]* failed, 0 skipped/,
    );
  }, 60_000);

  it('--trace writes the wire both ways with every password masked', async () => {
    const trace = join(h.dir, 'wire.log');
    const run = await h.run([
      'conformance',
      '--port',
      'mock://traced',
      ...CI,
      '--only',
      'policy',
      '--trace',
      trace,
    ]);
    expect(run.code).toBe(0);
    const text = readFileSync(trace, 'utf8');
    expect(text).toMatch(/ > @[0-9]+ PASSWD old="\*\*\*" new="\*\*\*"/);
    expect(text).toMatch(/ < @[0-9]+ ERR code=422 reason=weak-password/);
    expect(text).not.toContain('Tsp1.Conform-9x');
    expect(text).not.toContain('Op3r.');
  }, 60_000);
});

describe("the terminal's own text", () => {
  it('never reaches the screen raw: an ESC in the model name is shown as \\x1b', async () => {
    // A hostile (or careless) terminal names itself with an escape sequence.
    const hostile: MockBehaviour = {
      name: 'ESC in model',
      onLine: (_c, line) => {
        if (!line.text.includes('model=PB-MOCK')) return undefined;
        const body = (splitCrc(line.text)?.body ?? line.text).replace(
          'model=PB-MOCK',
          'model="PB\\x1B[2J\\x1B[31mRED"',
        );
        return [{ ...line, text: splitCrc(line.text) ? appendCrc(body) : body }];
      },
    };
    const odd = new CliHarness({ diagTimeScale: 0, behaviours: [hostile] });
    try {
      const run = await odd.run(['conformance', '--port', 'mock://odd', ...CI, '--only', 'commands']);
      expect(run.code).toBe(1);
      expect(run.stdout).not.toContain('\u001b');
      expect(run.stdout).toContain('PB\\x1b[2J\\x1b[31mRED sn PBM0000001');
      expect(run.stdout).toMatch(/FAIL {2}commands\.hello /);
      expect(run.stdout).toContain('§15 HELLO: model must be a bare token of 1 to 32 characters');
    } finally {
      odd.dispose();
    }
  });
});

describe('consent: the suite erases the terminal', () => {
  it('without --yes-erase-this-terminal and nobody at a terminal: exit 2, the port never opened', async () => {
    const server = await countingServer();
    try {
      const run = await h.run(['conformance', '--port', server.url]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('error: the conformance suite erases the terminal, and nobody was asked');
      expect(run.stderr).toContain('--yes-erase-this-terminal');
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('at a terminal, the serial number typed is the consent; the wrong one stops it after HELLO', async () => {
    const verbs: string[] = [];
    const spy: MockBehaviour = { name: 'spy', onRequest: ({ request }) => void verbs.push(request.verb) };
    const asked = new CliHarness({ diagTimeScale: 0, behaviours: [spy] });
    try {
      const wrong = await asked.run(
        ['conformance', '--port', 'mock://asked', '--only', 'ids'],
        'PBM0000002\n',
        { tty: true },
      );
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('RESETs the terminal on mock://asked to factory state');
      expect(wrong.stderr).toContain('Type its serial number');
      expect(wrong.stderr).toContain('is PBM0000001, not PBM0000002: nothing was changed');
      expect(verbs).toEqual(['HELLO']);

      const right = await asked.run(
        ['conformance', '--port', 'mock://asked', '--only', 'ids'],
        'PBM0000001\n',
        { tty: true },
      );
      expect(right.code).toBe(0);
      expect(right.stdout).toContain('PASSED');
    } finally {
      asked.dispose();
    }
  });
});

describe('the admin password of a provisioned terminal', () => {
  beforeEach(async () => {
    expect((await h.provision('mock://bench')).code).toBe(0);
  });

  it('is needed: without it, exit 2 naming where it comes from', async () => {
    const run = await h.run(['conformance', '--port', 'mock://bench', ...CI, '--only', 'ids']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no longer has its factory admin password');
    expect(run.stderr).toContain('--admin-password-stdin');
  });

  it('from stdin: the suite RESETs the terminal and runs', async () => {
    const run = await h.run(
      ['conformance', '--port', 'mock://bench', ...CI, '--only', 'reset', '--admin-password-stdin'],
      `${ADMIN_PASSWORD}\n`,
    );
    expect(run.code).toBe(0);
    const info = await h.run(['info', '--port', 'mock://bench', '--json']);
    expect(JSON.parse(info.stdout).status).toMatchObject({ state: 'factory', factoryPw: ['admin', '01'] });
  });

  it('a wrong one: exit 1, one attempt spent, never tried again', async () => {
    const run = await h.run(
      ['conformance', '--port', 'mock://bench', ...CI, '--only', 'ids', '--admin-password-stdin'],
      'Wrong-Pw-9x\n',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused the admin login');
    const info = await h.run(['info', '--port', 'mock://bench', '--json']);
    expect(JSON.parse(info.stdout).status.attemptsLeft).toBe(4);
  });
});

describe('usage', () => {
  it('--list lists the checks with their sections, needs no port and sends nothing', async () => {
    const run = await h.run(['conformance', '--list', '--only', 'auth,lockout']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('auth');
    expect(run.stdout).toMatch(/ {2}lockout\.lock-ends +§13 +a lock ends after lockout\.seconds/);
    expect(run.stdout).not.toContain('framing');
    const json = JSON.parse((await h.run(['conformance', '--list', '--json'])).stdout);
    expect(json.checks).toHaveLength(ALL_CHECKS.length);
    expect(json.checks[0]).toEqual({
      id: 'framing.crlf',
      group: 'framing',
      section: '§3',
      title: expect.any(String),
    });
  });

  it('an unknown group, --socket, no --port, an unwritable --junit: exit 2 before the port is opened', async () => {
    const server = await countingServer();
    try {
      const unknown = await h.run(['conformance', '--port', server.url, ...CI, '--only', 'auth,timing']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown check group "timing"');
      expect(unknown.stderr).toContain('framing, crc, ids, replay');
      const socket = await h.run(['conformance', '--port', server.url, ...CI, '--socket', join(h.dir, 's')]);
      expect(socket.code).toBe(2);
      expect(socket.stderr).toContain('does not run through the daemon');
      expect((await h.run(['conformance', ...CI])).code).toBe(2);
      const junit = join(h.dir, 'no', 'such', 'dir', 'x.xml');
      const unwritable = await h.run(['conformance', '--port', server.url, ...CI, '--junit', junit]);
      expect(unwritable.code).toBe(2);
      expect(unwritable.stderr).toContain(`cannot write --junit ${junit}: its directory`);
      expect(existsSync(junit)).toBe(false);
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('an unreachable terminal is exit 3; a silent one too, after the reply timeout', async () => {
    const server = await countingServer();
    await server.close();
    const refused = await h.run(['conformance', '--port', server.url, ...CI]);
    expect(refused.code).toBe(3);
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const run = await h.run([
        'conformance',
        '--port',
        `tcp://127.0.0.1:${port}`,
        ...CI,
        '--timeout',
        '200',
      ]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('no answer to HELLO within 200 ms');
    } finally {
      silent.close();
    }
  });

  it('a tampered terminal is not tested: exit 1, no credential sent', async () => {
    const run = await h.run(['conformance', '--port', 'mock://tampered?tamper=1', ...CI]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('reports tamper=1');
  });
});
