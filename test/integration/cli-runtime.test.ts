/**
 * The composition root (docs/architecture.md, "The composition root"): the config settled first
 * (loadRuntimeConfig: is there a daemon? else, when this process runs the port manager, the daemon
 * config file), then one buildRuntime that gives the engine (the daemon's client, or this
 * process's, audited), the hub when there is one, and close. One audit trail per runtime: the one
 * its engine writes.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../../src/audit/index.js';
import { productionDeps } from '../../src/cli/compose.js';
import { MockPorts } from '../../src/cli/mock-ports.js';
import { runCli } from '../../src/cli/program.js';
import { buildRuntime } from '../../src/cli/runtime.js';
import { loadRuntimeConfig } from '../../src/cli/runtime-config.js';
import { RemoteEngine } from '../../src/daemon/api/client.js';
import { Secret } from '../../src/host/secret.js';
import { DEFAULT_PROFILE } from '../../src/host/workflow/profile.js';
import { ADMIN_PW, MERCHANT, silentLogger as silent, TERMINAL } from '../support/constants.js';
import { type MemoryIo, memoryIo } from '../support/memory-io.js';
import { testParts } from '../support/runtime.js';
import { type RunningDaemon, startDaemon } from './api-rig.helper.js';

const system = { uid: process.getuid!(), hostname: () => 'station-test' };

let dir: string;
let mockPorts: MockPorts;
let daemon: RunningDaemon | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pb-rt-'));
  mockPorts = new MockPorts({ defaults: { baud: 0, diagTimeScale: 0 } });
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await mockPorts.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(env: NodeJS.ProcessEnv, stdin = ''): MemoryIo {
  return memoryIo({ USER: 'tech-tester', NO_COLOR: '1', ...env }, stdin);
}

/** Where posbridge keeps things for the user, and no daemon answering. */
function sandbox(): NodeJS.ProcessEnv {
  return {
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_STATE_HOME: join(dir, 'state'),
    POSBRIDGE_SOCKET: join(dir, 'no-daemon.sock'),
  };
}

const userTrail = () => join(dir, 'data', 'posbridge', 'audit.sqlite3');

describe('station mode without --port and without a daemon', () => {
  it('runs the port manager from the config and writes only the config’s trail, not also the user’s', async () => {
    const stationTrail = join(dir, 'station.sqlite3');
    mkdirSync(join(dir, 'config', 'posbridge'), { recursive: true });
    writeFileSync(
      join(dir, 'config', 'posbridge', 'daemon.yaml'),
      `station: bench-cfg\nports: [ "mock://s1?sn=SC000001" ]\naudit: ${stationTrail}\n`,
    );
    writeFileSync(join(dir, 'rows.csv'), `sn,merchant,terminal\nSC000001,${MERCHANT},${TERMINAL}\n`);
    const cli = io(sandbox(), `${ADMIN_PW}\n`);
    const code = await runCli(
      ['station', '--manifest', join(dir, 'rows.csv'), '--admin-password-stdin', '--until-idle'],
      productionDeps(cli, mockPorts),
    );
    expect(code, cli.out.join('') + cli.err.join('')).toBe(0);
    expect(cli.out.join('')).toContain(`station name bench-cfg, audit trail ${stationTrail}\n`);
    expect(existsSync(stationTrail)).toBe(true);
    // Before: the command's own in-process engine opened (and created) the user's trail too.
    expect(existsSync(userTrail())).toBe(false);
  });
});

describe('buildRuntime', () => {
  it('a daemon answers: its client is the engine, its list the hub; nothing is opened here', async () => {
    daemon = await startDaemon();
    const env = { ...sandbox(), POSBRIDGE_SOCKET: daemon.socket };
    const config = await loadRuntimeConfig({ env }, { ports: {} }, system);
    expect(config.daemon?.socket).toBe(daemon.socket);
    // The daemon config is the daemon's business: not read here.
    expect(config.file).toBeUndefined();
    const runtime = await buildRuntime(config, io(env), {
      parts: testParts({ mockPorts }),
      logger: silent,
      hub: 'discover',
    });
    try {
      expect(runtime.engine).toBeInstanceOf(RemoteEngine);
      expect(runtime.about.daemon).toEqual({ socket: daemon.socket, pid: process.pid });
      await daemon.portManager.plug('mock://a');
      await expect.poll(() => runtime.hub?.list().map((t) => t.port)).toEqual(['mock://a']);
      expect((await runtime.engine.info({ port: 'mock://a' })).hello.sn).toBe('PBM0000001');
    } finally {
      await runtime.close();
    }
    expect(existsSync(userTrail())).toBe(false);
  });

  it('in-process: a LocalEngine opening each port, audited in the user’s trail; close releases it', async () => {
    const env = sandbox();
    const config = await loadRuntimeConfig({ env }, {}, system);
    expect(config).toEqual({ env, audit: { file: userTrail() } });
    const runtime = await buildRuntime(config, io(env), { parts: testParts({ mockPorts }), logger: silent });
    expect(runtime.hub).toBeUndefined();
    expect(runtime.about).toEqual({ audit: userTrail() });
    const report = await runtime.engine.provision(
      {
        request: {
          port: 'mock://a',
          merchant: MERCHANT,
          terminal: TERMINAL,
          adminPassword: new Secret(ADMIN_PW),
          profile: DEFAULT_PROFILE,
          technician: 'tech-tester',
          station: 'station-test',
        },
      },
      { on: { generated: async () => undefined } },
    );
    await runtime.close();
    const store = AuditStore.open(userTrail(), { readonly: true });
    try {
      expect(store.history().map((r) => [r.outcome, r.auditHead])).toEqual([
        ['provisioned', report.auditHead],
      ]);
    } finally {
      store.close();
    }
  });

  it('in-process: the audit trail opens on the first record; info (which records nothing) never creates it', async () => {
    const env = sandbox();
    const runtime = await buildRuntime(await loadRuntimeConfig({ env }, {}, system), io(env), {
      parts: testParts({ mockPorts }),
      logger: silent,
    });
    try {
      expect((await runtime.engine.info({ port: 'mock://a' })).hello.sn).toBe('PBM0000001');
      expect(existsSync(userTrail())).toBe(false);
      await runtime.engine.diag({ port: 'mock://a', adminPassword: new Secret('01') }).catch(() => undefined);
      expect(existsSync(userTrail())).toBe(true);
    } finally {
      await runtime.close();
    }
  });

  it('posbridge info in-process leaves no audit trail behind', async () => {
    const cli = io(sandbox());
    const code = await runCli(['info', '--port', 'mock://a'], productionDeps(cli, mockPorts));
    expect(code, cli.err.join('')).toBe(0);
    expect(cli.out.join('')).toContain('sn PBM0000001');
    expect(existsSync(userTrail())).toBe(false);
  });

  it('the daemon (serve): the config’s port manager is the hub, its station, trail, rate and file in `about`', async () => {
    const config = join(dir, 'daemon.yaml');
    // No USB ID allowed: no serial port of this machine is probed.
    writeFileSync(config, `station: counter-9\nallow: []\nbaud: 9600\naudit: ${join(dir, 'd.sqlite3')}\n`);
    const env = sandbox();
    const settled = await loadRuntimeConfig({ env }, { inProcess: true, ports: { file: config } }, system);
    const runtime = await buildRuntime(settled, io(env), {
      // The default port manager: discovery per the config (createDaemonPorts).
      parts: testParts({ mockPorts }),
      logger: silent,
      hub: 'serve',
    });
    try {
      expect(runtime.about).toEqual({
        station: 'counter-9',
        audit: join(dir, 'd.sqlite3'),
        baud: 9600,
        config,
      });
      expect(typeof runtime.hub.lease).toBe('function');
      expect(runtime.hub.list()).toEqual([]);
    } finally {
      await runtime.close();
    }
    expect(existsSync(userTrail())).toBe(false);
  });
});
