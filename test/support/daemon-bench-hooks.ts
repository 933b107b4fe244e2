/**
 * The hooks every test of a spawned daemon with a dashboard needs: a fresh sandbox (config, socket,
 * pty directory) per test, its processes stopped and its files removed after; and one Chromium
 * for a whole file (Debian's, test/support/chromium.ts).
 */
import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { CHROMIUM_PRESENT, launchChromium } from './chromium.js';
import { Children, requireBuiltCli } from './cli-process.js';
import { createDaemonStationSandbox, type DaemonStationSandbox } from './daemon-station-rig.js';

export interface DaemonBench {
  readonly children: Children;
  /** This test's sandbox. */
  readonly box: DaemonStationSandbox;
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
  return {
    children,
    get box() {
      if (!box) throw new Error('the sandbox exists inside a test only');
      return box;
    },
  };
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
