/**
 * Issue 14 in a real browser: `posbridge daemon --http 127.0.0.1:0` (its own process) watching a
 * directory of pty links, `posbridge mock --pty` terminals plugged in and pulled out, Debian's
 * Chromium driven headless by playwright-core (never a downloaded browser). The grid shows the
 * terminals, a plug and an unplug appear, a provisioning's tile ends green and a diagnostics
 * failure shows its hint, requests without the session or the CSRF token are refused, and the
 * admin password appears in no page, network message, browser storage or daemon log.
 *
 * SCREENSHOTS=1 also writes docs/img/dashboard-light.png and -dark.png (docs/dashboard.md).
 */

import { mkdirSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_PRESENT } from '../support/chromium.js';
import { ADMIN_PASSWORD } from '../support/cli-inproc.js';
import { type CliProcess, REPO_ROOT } from '../support/cli-process.js';
import { provisionArgv } from '../support/constants.js';
import { chromiumPerFile, daemonBenchPerTest } from '../support/daemon-bench-hooks.js';

const present = CHROMIUM_PRESENT;
if (!present)
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is absent (CI installs Debian's chromium)`);

const START_MS = 20_000;
const bench = daemonBenchPerTest();
const { children } = bench;
const chromium = chromiumPerFile();

function spawn(args: string[], input?: string): CliProcess {
  return children.spawn(args, {
    cwd: bench.box.dir,
    env: bench.box.env,
    ...(input !== undefined && { input }),
  });
}

const startDaemon = () => bench.startDashboardDaemon(START_MS);

async function plug(link: string, sn: string, extra: string[] = []): Promise<CliProcess> {
  const mock = spawn(['mock', '--pty', bench.box.link(link), '--sn', sn, '--diag-time-scale', '0', ...extra]);
  await mock.waitForStdout(new RegExp(`^mock terminal ${sn} on pty `, 'm'), `mock ${sn}`, START_MS);
  return mock;
}

/** Notes when each tile (port and condition) first shows on the page: `window.__seen`. */
const SEEN_SCRIPT = `window.__seen = {};
new MutationObserver(() => {
  for (const t of document.querySelectorAll('article.tile'))
    window.__seen[t.dataset.port + ' ' + t.dataset.condition] ??= Date.now();
}).observe(document.getElementById('grid'), { subtree: true, childList: true, attributes: true });`;

function onPort(seen: Record<string, number>, port: string): number[] {
  return Object.entries(seen)
    .filter(([key]) => key.startsWith(`${port} `))
    .map(([, at]) => at);
}

const tile = (page: Page, link: string) => page.locator(`article.tile[data-port="${bench.box.link(link)}"]`);

describe.skipIf(!present)('the dashboard in Chromium', () => {
  it('shows plugs and unplugs live, a green provisioned tile, a diagnostics hint; no password anywhere', async () => {
    const { daemon, login, origin } = await startDaemon();
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const network: string[] = [];
    page.on('request', (r) => network.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
    page.on('response', async (r) => {
      if (r.headers()['content-type']?.includes('event-stream')) return;
      network.push(await r.text().catch(() => ''));
    });
    await page.goto(login);
    expect(page.url()).toBe(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('.grid .empty');

    // A plug shows within a second of the mock's pty link appearing (its process start aside).
    // Timed on the page (a MutationObserver notes when each tile and condition first shows) from
    // the link's own timestamp: Playwright's waits poll, up to 500 ms apart once a wait is long.
    await page.evaluate(SEEN_SCRIPT);
    const good = await plug('pos1', 'SNG001');
    const linked = (await lstat(bench.box.link('pos1'))).mtimeMs;
    await page
      .locator(`article.tile[data-port="${bench.box.link('pos1')}"][data-condition="factory"]`)
      .waitFor();
    const seen = (await page.evaluate('window.__seen')) as Record<string, number>;
    const plugMs = Math.round(Math.min(...onPort(seen, bench.box.link('pos1'))) - linked);
    const identifiedMs = Math.round(seen[`${bench.box.link('pos1')} factory`]! - linked);
    expect(await tile(page, 'pos1').textContent()).toContain('SNG001');
    const bad = await plug('pos2', 'SNB002', ['--diag-fail', 'printer:paper_out']);
    await expect.poll(() => tile(page, 'pos2').getAttribute('data-condition')).toBe('factory');

    // Provisioned through the daemon (its own CLI process): one ends green, one shows its hint.
    const provision = (link: string) =>
      spawn(
        provisionArgv(bench.box.link(link), join(bench.box.dir, `${link}.txt`)),
        `${ADMIN_PASSWORD}\n`,
      ).waitForExit(`provisioning ${link}`, 45_000);
    const [okExit, badExit] = await Promise.all([provision('pos1'), provision('pos2')]);
    expect(okExit.code).toBe(0);
    expect(badExit.code).not.toBe(0);
    await expect.poll(() => tile(page, 'pos1').getAttribute('data-condition')).toBe('provisioned');
    await expect.poll(() => tile(page, 'pos2').getAttribute('data-condition')).toBe('failed');
    const failChip = tile(page, 'pos2').locator('.chip.fail');
    expect(await failChip.textContent()).toBe('printer');
    expect(await tile(page, 'pos2').locator('.hint.fail').textContent()).toMatch(/^printer: .*paper/i);

    if (process.env.SCREENSHOTS) {
      mkdirSync(join(REPO_ROOT, 'docs/img'), { recursive: true });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(REPO_ROOT, `docs/img/dashboard-${scheme}.png`) });
      }
      await page.emulateMedia({ colorScheme: 'light' });
    }

    // An unplug greys the tile out.
    const t1 = performance.now();
    bad.kill('SIGTERM');
    await page.locator(`article.tile.gone[data-port="${bench.box.link('pos2')}"]`).waitFor({ timeout: 5000 });
    const unplugMs = Math.round(performance.now() - t1);

    // Keyboard: the tiles take focus in order.
    await page.keyboard.press('Tab');
    // (Browser-side code as strings: this file is compiled without the DOM's types.)
    expect(await page.evaluate("document.activeElement?.getAttribute('data-port')")).toBe(
      bench.box.link('pos1'),
    );

    // The same requests without the CSRF token, or from a browser without the session: refused.
    const noCsrf = await page.evaluate(
      async () => (await fetch('/api/logout', { method: 'POST', body: '{}' })).status,
    );
    expect(noCsrf).toBe(401);
    const stranger = await chromium.browser.newContext();
    const other = await stranger.newPage();
    const anonymous = await other.goto(`${origin}/api/status`);
    expect(anonymous?.status()).toBe(401);
    await other.goto(`${origin}/`);
    await expect
      .poll(() => other.locator('#banner').textContent())
      .toMatch(/open the URL the daemon printed/);
    await stranger.close();
    // The session survived the refused logout.
    expect(await page.evaluate(async () => (await fetch('/api/status')).status)).toBe(200);

    // The password: not in the page, the network, the browser's storage, or the daemon's log.
    const html = await page.content();
    const storage = String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })'));
    const cookies = JSON.stringify(await context.cookies());
    for (const [where, text] of Object.entries({ html, storage, cookies, network: network.join('\n') }))
      expect(text.includes(ADMIN_PASSWORD), where).toBe(false);
    expect(daemon.stderr.includes(ADMIN_PASSWORD)).toBe(false);
    expect(daemon.stdout.includes(ADMIN_PASSWORD)).toBe(false);
    // The login token is not logged either (the query is left out).
    expect(daemon.stderr).toContain('"path":"/login"');
    expect(daemon.stderr.includes(new URL(login).searchParams.get('token')!)).toBe(false);

    good.kill('SIGTERM');
    await context.close();
    console.info(
      `dashboard: plug shown after ${plugMs} ms (identified ${identifiedMs} ms), unplug after ${unplugMs} ms`,
    );
    // The target is a second (issue 14). Measured 0.15-0.2 s (identified 0.25-0.45 s) on the shared
    // 2-core machine at load 6-10 (docs/dashboard.md).
    expect(plugMs).toBeGreaterThanOrEqual(0);
    expect(plugMs).toBeLessThan(1000);
  }, 90_000);
});
