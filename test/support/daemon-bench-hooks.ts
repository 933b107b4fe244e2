/**
 * The hooks every test of a spawned daemon with a dashboard needs: a fresh sandbox (config, socket,
 * pty directory) per test, its processes stopped and its files removed after; and one Chromium
 * for a whole file (Debian's, test/support/chromium.ts).
 */
import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { CHROMIUM_PRESENT, launchChromium } from './chromium.js';
import { Children, type CliProcess, requireBuiltCli } from './cli-process.js';
import { createDaemonStationSandbox, type DaemonStationSandbox } from './daemon-station-rig.js';

export interface DaemonBench {
  readonly children: Children;
  /** This test's sandbox. */
  readonly box: DaemonStationSandbox;
  /**
   * `posbridge daemon` on the sandbox's config and socket with the dashboard on a free loopback
   * port; resolves once it printed the dashboard's origin and one-time login URL.
   */
  startDashboardDaemon(startMs: number): Promise<DashboardDaemon>;
}

export interface DashboardDaemon {
  daemon: CliProcess;
  origin: string;
  login: string;
}

export function daemonBenchPerTest(): DaemonBench {
  const children = new Children();
  let box: DaemonStationSandbox | undefined;
  beforeEach(() => {
    requireBuiltCli();
    box = createDaemonStationSandbox([]);
  });
  afterEach(async () => {
    await children.stopAll();
    if (box) rmSync(box.dir, { recursive: true, force: true });
  });
  const bench: DaemonBench = {
    children,
    get box() {
      if (!box) throw new Error('the sandbox exists inside a test only');
      return box;
    },
    async startDashboardDaemon(startMs) {
      const { config, socket, dir, env } = bench.box;
      const daemon = children.spawn(
        ['daemon', '--config', config, '--socket', socket, '--http', '127.0.0.1:0'],
        { cwd: dir, env },
      );
      const m = await daemon.waitForStdout(
        /^dashboard on (http:\/\/127\.0\.0\.1:\d+); open (\S+)$/m,
        'the dashboard URL',
        startMs,
      );
      return { daemon, origin: m[1]!, login: m[2]! };
    },
  };
  return bench;
}

/** One browser for the file's tests (none when Chromium is absent: those tests are skipped). */
export function chromiumPerFile(): { readonly browser: Browser } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (CHROMIUM_PRESENT) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error('Chromium was not launched');
      return browser;
    },
  };
}
