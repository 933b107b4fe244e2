/**
 * Issue 16 against a real broker (Debian's Mosquitto, started here on free loopback ports with a
 * generated config, a password file and TLS listeners with a CA made at test time): two daemons
 * as two stations with mock terminals, a collector, an observer on `#`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv } from '../support/cli-inproc.js';
import { Children, type CliProcess, runCliProcess } from '../support/cli-process.js';
import {
  createStation,
  Observer,
  provision,
  reportOf,
  type StationRig,
  startDaemon,
} from '../support/fleet-rig.js';
import { Mosquitto } from '../support/mosquitto.js';
import { deadline } from '../support/wait.js';

const USERS = { a: 'pw-station-a', depot: 'pw-depot', obs: 'pw-observer' };
const SETTLEMENT = 'DE89370400440532013000';
const PROFILE = `settings:
  settle.account: ${SETTLEMENT}
  host.addr: acq.example.net
operators:
  - id: "02"
    name: Cashier
    perms: [sale, query]
    password: generate
factoryOperator: replace-password
`;

let root: string;
let broker: Mosquitto | undefined;
const children = new Children();

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'posbridge-fleet-'));
});

afterEach(async () => {
  await children.stopAll();
  await broker?.dispose();
  broker = undefined;
  rmSync(root, { recursive: true, force: true });
});

async function headOf(station: StationRig): Promise<number> {
  const run = await runCliProcess(['history', '--head', '--audit', station.audit], {
    cwd: station.dir,
    env: station.env,
  });
  return Number(run.stdout.split(':')[0]);
}

/** Waits until one of the collectors says it appended `station`'s records up to `seq`. */
async function collected(collectors: CliProcess[], station: string, seq: number): Promise<void> {
  const pattern = new RegExp(`station ${station}: records [0-9-]+ appended \\(head ${seq}\\)`);
  await deadline(
    new Promise<void>((resolve) => {
      const check = () => {
        if (collectors.some((c) => pattern.test(c.stdout))) resolve();
      };
      for (const c of collectors) c.child.stdout.on('data', check);
      check();
    }),
    `a collector to hold ${station}'s records up to ${seq}\n${collectors.map((c) => c.stdout + c.stderr).join('\n---\n')}`,
    60_000,
  );
}

function startCollector(dir: string, url: string, clientId = 'depot-1'): CliProcess {
  writeFileSync(join(dir, 'depot.pw'), `${USERS.depot}\n`, { mode: 0o600 });
  return children.spawn(
    [
      'fleet',
      'collect',
      '--mqtt',
      url,
      '--username',
      'depot',
      '--password-file',
      'depot.pw',
      '--audit',
      'depot.sqlite3',
      '--client-id',
      clientId,
    ],
    { cwd: dir, env: cleanEnv(dir) },
  );
}

async function fleetStatus(
  url: string,
  ...extra: string[]
): Promise<Array<[string, string | undefined, number, number]>> {
  const status = await runCliProcess(
    [
      'fleet',
      'status',
      '--mqtt',
      url,
      '--username',
      'depot',
      '--password-file',
      'depot.pw',
      '--json',
      ...extra,
    ],
    { cwd: root, env: cleanEnv(root) },
  );
  expect(status.code, status.stderr).toBe(0);
  const view = JSON.parse(status.stdout) as {
    stations: Array<{ station: string; status?: { state: string }; terminals: unknown[]; runs: unknown[] }>;
  };
  return view.stations.map((s) => [s.station, s.status?.state, s.terminals.length, s.runs.length]);
}

const sortRows = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(r)).sort();

describe('posbridge and a real Mosquitto', () => {
  it("the depot report equals the stations' own after a broker outage and a SIGKILL, and no secret crosses the broker", async () => {
    broker = await Mosquitto.start(join(root, 'broker'), { users: USERS, tls: true });
    // A persistent session: what the stations send while it reconnects after the outage is kept.
    const observer = await Observer.connect(
      broker.url,
      {
        username: 'obs',
        password: USERS.obs,
        clientId: 'observer',
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      },
      ['#'],
    );
    // Station a: TLS with a user and password; station b: TLS with a client certificate.
    const a = createStation(root, 'a', {
      url: broker.tlsUrl,
      ca: broker.caFile,
      username: 'a',
      password: USERS.a,
    });
    const bCert = broker.clientCertificate('b');
    const b = createStation(root, 'b', {
      url: broker.certUrl,
      ca: broker.caFile,
      cert: bCert.cert,
      key: bCert.key,
    });
    let daemonA = await startDaemon(children, a);
    const daemonB = await startDaemon(children, b);
    // Two collectors of one depot, one shared subscription group.
    const collectors = [startCollector(root, broker.url), startCollector(root, broker.url, 'depot-2')];
    for (const c of collectors) await c.waitForStdout(/collecting from/, 'the collector to subscribe');

    // A full provision each, watched on `#`.
    const first = await Promise.all([
      provision(a, a.ports[0]!, '10000001', PROFILE),
      provision(b, b.ports[0]!, '20000001', PROFILE),
    ]);
    for (const run of first) expect(run.code, run.stderr).toBe(0);
    await Promise.all([
      collected(collectors, 'a', await headOf(a)),
      collected(collectors, 'b', await headOf(b)),
    ]);

    // The broker goes away in the middle of the stations' work: provisioning does not wait.
    await broker.stop();
    const during = await Promise.all([
      provision(a, a.ports[1]!, '10000002'),
      provision(b, b.ports[1]!, '20000002'),
    ]);
    for (const run of during) expect(run.code, run.stderr).toBe(0);
    // Station a's daemon dies without a word while the broker is down, and comes back.
    daemonA.kill('SIGKILL');
    await daemonA.waitForExit();
    daemonA = await startDaemon(children, a);
    expect((await provision(a, a.ports[2]!, '10000003')).code).toBe(0);
    await broker.start();

    const heads = { a: await headOf(a), b: await headOf(b) };
    expect(heads.a).toBeGreaterThan(20);
    await Promise.all([collected(collectors, 'a', heads.a), collected(collectors, 'b', heads.b)]);

    const depot = await reportOf(root, cleanEnv(root), join(root, 'depot.sqlite3'));
    const own = [...(await reportOf(a.dir, a.env, a.audit)), ...(await reportOf(b.dir, b.env, b.audit))];
    expect(own).toHaveLength(5);
    expect(sortRows(depot)).toEqual(sortRows(own));
    for (const c of collectors) {
      expect(c.stderr).not.toMatch(/REFUSED/);
      // The broker shared the records between them.
      expect(c.stdout).toMatch(/appended/);
    }

    // Every record of both chains crossed the broker, in order per station.
    for (const [station, head] of Object.entries(heads)) {
      const seqs = [...new Set(observer.audit(station).map((r) => r.seq))].sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    }

    // No password, first password or settlement account in any payload the observer saw.
    const generated = ['a', 'b'].flatMap((s) =>
      readFileSync(join(root, s, `ops-${s === 'a' ? '10000001' : '20000001'}.txt`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => /password=(\S+)/.exec(line)![1]!),
    );
    expect(generated.length).toBeGreaterThanOrEqual(2);
    const secrets = [ADMIN_PASSWORD, SETTLEMENT, ...generated, ...Object.values(USERS)];
    const everything = observer.messages.map((m) => `${m.topic} ${m.payload.toString('utf8')}`).join('\n');
    expect(everything).toContain('"type":"run-finish"');
    for (const secret of secrets) expect(everything).not.toContain(secret);

    // Someone publishes a chain of their own: its first records chain and are kept, a forged
    // hash is refused, a record past a gap is held and asked for again.
    const [r1, r2, r3] = observer.audit('a') as unknown as Array<Record<string, unknown>>;
    const forge = (r: Record<string, unknown>, change: Record<string, unknown> = {}) =>
      JSON.stringify({ ...r, station: 'z', ...change });
    await observer.client.publishAsync('posbridge/z/audit', forge(r1!), { qos: 1 });
    await observer.client.publishAsync('posbridge/z/audit', forge(r2!), { qos: 1 });
    await observer.client.publishAsync('posbridge/z/audit', forge(r3!, { payload: '{"outcome":"ok"}' }), {
      qos: 1,
    });
    await observer.client.publishAsync('posbridge/z/audit', forge(r3!, { seq: 5 }), { qos: 1 });
    await collected(collectors, 'z', 2);
    const said = () => collectors.map((c) => c.stdout + c.stderr).join('\n');
    await deadline(
      new Promise<void>((resolve) => {
        const check = () => {
          if (/station z: asking for its records from 3 again/.test(said())) resolve();
        };
        for (const c of collectors) c.child.stdout.on('data', check);
        check();
      }),
      'a collector to ask station z for record 3',
      20_000,
    );
    expect(said()).toMatch(/REFUSED station z: row 3 was edited \(its hash does not match its content\)/);
    expect(said()).toMatch(/station z: record 5 held: records from [123] have not arrived/);
    for (const c of collectors) c.kill('SIGTERM');
    const exits = await Promise.all(collectors.map((c) => c.waitForExit()));
    // A refused record is a failed check: exit 1 for the one that refused it.
    expect(exits.map((e) => e.code).sort()).toEqual([0, 1]);
    await observer.close();

    // fleet status: both stations, their terminals and last runs; b offline once it is killed
    // (the broker sends its last will).
    expect(await fleetStatus(broker.tlsUrl, '--ca', broker.caFile)).toEqual([
      ['a', 'online', 3, 3],
      ['b', 'online', 3, 2],
    ]);
    daemonB.kill('SIGKILL');
    await daemonB.waitForExit();
    expect(await fleetStatus(broker.url)).toEqual([
      ['a', 'online', 3, 3],
      ['b', 'offline', 3, 2],
    ]);
  }, 300_000);

  it('a broker that refuses the credentials: a clear error, the daemon keeps working and retries with backoff', async () => {
    broker = await Mosquitto.start(join(root, 'broker'), { users: USERS, tls: true });
    const a = createStation(root, 'a', { url: broker.url, username: 'a', password: 'not-the-password' });
    const daemon = await startDaemon(children, a);
    // Mosquitto answers a wrong password with "not authorized" (MQTT 5 reason 135).
    const refused =
      /"retryInMs":(\d+),"msg":"the MQTT broker mqtt:\/\/127\.0\.0\.1:\d+ refused the connection: not authorized \(a wrong user name or password, or its access rules refuse this user or certificate\): check mqtt\.username, the password in the file mqtt\.passwordFile names/g;
    await daemon.waitForStderr(
      new RegExp(`(${refused.source}[\\s\\S]*){3}`),
      'three refused attempts in the daemon log',
    );
    // Each wait about twice the last (100 ms, then 200, 400, ..., less up to 1/8 at random).
    const waits = [...daemon.stderr.matchAll(refused)].map((m) => Number(m[1]));
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(waits[1]).toBeGreaterThan(waits[0]!);
    expect(waits[2]).toBeGreaterThan(waits[1]!);
    // Meanwhile the station provisions as ever, its trail complete.
    const run = await provision(a, a.ports[0]!, '10000001');
    expect(run.code, run.stderr).toBe(0);
    expect(await headOf(a)).toBeGreaterThan(10);
    expect(daemon.running).toBe(true);
    expect(daemon.stderr).not.toContain('not-the-password');

    // The CLI says the same, with exit 1 and no stack trace.
    writeFileSync(join(root, 'wrong.pw'), 'nope\n', { mode: 0o600 });
    for (const command of [
      ['fleet', 'status'],
      ['fleet', 'collect', '--audit', 'depot.sqlite3'],
    ]) {
      const cli = await runCliProcess(
        [...command, '--mqtt', broker.url, '--username', 'depot', '--password-file', 'wrong.pw'],
        { cwd: root, env: cleanEnv(root) },
      );
      expect(cli.code, cli.stderr).toBe(1);
      expect(cli.stderr).toMatch(
        /refused the connection: not authorized \(a wrong user name or password, .*\): check --username, the password in the file --password-file names/,
      );
      expect(cli.stderr).not.toMatch(/\n\s+at /);
    }
    // A broker whose certificate we cannot check: the TLS problem named, exit 1.
    writeFileSync(join(root, 'depot.pw'), `${USERS.depot}\n`, { mode: 0o600 });
    const tls = await runCliProcess(
      ['fleet', 'status', '--mqtt', broker.tlsUrl, '--username', 'depot', '--password-file', 'depot.pw'],
      { cwd: root, env: cleanEnv(root) },
    );
    expect(tls.code, tls.stderr).toBe(1);
    expect(tls.stderr).toMatch(
      /TLS with the MQTT broker mqtts:\/\/127\.0\.0\.1:\d+ failed: .*certificate.* \(check --ca/,
    );
  }, 120_000);
});
