/**
 * A station run started from the dashboard in Chromium (issue 14): the daemon in its own process
 * with two `posbridge mock --pty` terminals, the manifest and profile chosen in the page, the
 * admin password typed into its field, Start; both tiles end green, the JUnit and CSV results are
 * offered, the generated operator passwords are in the daemon's credentials file (the page says
 * where), and the password is in no HTML, response, request URL or header, browser storage or
 * daemon output. (The one request body that carries it is the POST itself, over the session.)
 * The run's progress and end reach the page as events on its stream: no read of the run's state
 * while it goes; a reload reads it once and still shows it. A Stop that fails (no session, the
 * daemon out of reach) is said on the run's line, and stays said while the run goes on.
 *
 * SCREENSHOTS=1 also writes docs/img/dashboard-history.png (docs/dashboard.md, "History").
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PRESENT } from '../support/chromium.js';
import { ADMIN_PASSWORD, MERCHANT } from '../support/cli-inproc.js';
import { type CliProcess, REPO_ROOT } from '../support/cli-process.js';
import { chromiumPerFile, daemonBenchPerTest } from '../support/daemon-bench-hooks.js';

const present = CHROMIUM_PRESENT;
const START_MS = 20_000;
const bench = daemonBenchPerTest();
const { children } = bench;
const chromium = chromiumPerFile();

function spawn(args: string[]): CliProcess {
  return children.spawn(args, { cwd: bench.box.dir, env: bench.box.env });
}

describe.skipIf(!present)('a station run from the page, in Chromium', () => {
  it('provisions two mocks, the tiles end green, results offered; the password nowhere', async () => {
    const { daemon, login } = await bench.startDashboardDaemon(START_MS);
    for (const sn of ['PBW0001', 'PBW0002']) {
      const mock = spawn([
        'mock',
        '--pty',
        bench.box.link(`pos-${sn}`),
        '--sn',
        sn,
        '--diag-time-scale',
        '0',
      ]);
      await mock.waitForStdout(new RegExp(`^mock terminal ${sn} on pty `, 'm'), `mock ${sn}`, START_MS);
    }
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const network: string[] = [];
    page.on('request', (r) => network.push(`${r.method()} ${r.url()} ${JSON.stringify(r.headers())}`));
    // Reads of the run's state (GET /api/station), counted from the moment the run is started.
    let running = false;
    let stateReads = 0;
    page.on('request', (r) => {
      if (running && r.method() === 'GET' && new URL(r.url()).pathname === '/api/station') stateReads++;
    });
    page.on('response', async (r) => {
      if (r.headers()['content-type']?.includes('event-stream')) return;
      network.push(await r.text().catch(() => ''));
    });
    await page.goto(login);
    await page.waitForSelector('body[data-ready="true"]');
    const tile = (sn: string) => page.locator(`article.tile[data-port="${bench.box.link(`pos-${sn}`)}"]`);
    for (const sn of ['PBW0001', 'PBW0002'])
      await expect.poll(() => tile(sn).getAttribute('data-condition'), { timeout: 10_000 }).toBe('factory');

    const manifest = `sn,merchant,terminal\nPBW0001,${MERCHANT},30000001\nPBW0002,${MERCHANT},30000002\n`;
    await page.setInputFiles('#manifest', {
      name: 'bench.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(manifest),
    });
    await page.setInputFiles('#profile', {
      name: 'bench.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from('operators:\n  - id: "02"\n    name: Clerk\n    perms: [sale]\n'),
    });
    // Two different passwords: refused on the page, nothing sent, both fields emptied.
    let stationPosts = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/station') stationPosts++;
    });
    await page.fill('#admin-password', ADMIN_PASSWORD);
    await page.fill('#admin-password-again', `${ADMIN_PASSWORD}x`);
    await page.click('#station-start');
    await expect
      .poll(() => page.locator('#station-status').textContent())
      .toBe('The two passwords differ: type the same new admin password twice. Nothing was sent.');
    expect(await page.inputValue('#admin-password')).toBe('');
    expect(await page.inputValue('#admin-password-again')).toBe('');
    expect(stationPosts).toBe(0);

    // Typed with the keyboard, started with Enter: the form works without a mouse.
    await page.focus('#admin-password');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    running = true;
    await page.keyboard.press('Enter');
    // The page empties the field as the request goes out (after the key event, not within it).
    await expect.poll(() => page.inputValue('#admin-password'), { timeout: 5000 }).toBe('');

    await page.waitForSelector('body[data-station="ended"]', { timeout: 60_000 });
    running = false;
    // The end came as an event (station-ended), with its counts: the page never asked.
    expect(stateReads).toBe(0);
    for (const sn of ['PBW0001', 'PBW0002'])
      await expect.poll(() => tile(sn).getAttribute('data-condition')).toBe('provisioned');
    const status = await page.locator('#station-status').textContent();
    const credentials = join(bench.box.dir, 'state', 'posbridge', 'operator-passwords.txt');
    expect(status).toContain('2 provisioned');
    expect(status).toContain(credentials);
    // A reload reads the run's state once (as its stream opens) and shows it ended.
    await page.reload();
    await page.waitForSelector('body[data-station="ended"]', { timeout: 10_000 });
    expect(await page.locator('#station-status').textContent()).toBe(status);
    expect(readFileSync(credentials, 'utf8')).toMatch(/sn=PBW0001 operator=02 password=/);
    expect(await page.locator('#station-results').isVisible()).toBe(true);
    const junit = await page.evaluate("fetch('/api/station/junit').then((r) => r.text())");
    expect(String(junit)).toContain('name="PBW0002"');

    // The history shows both runs from the daemon's audit trail and the chain intact.
    await page.click('#history-form button[type="submit"]');
    await expect.poll(() => page.locator('#history-runs tbody tr').count()).toBe(2);
    if (process.env.SCREENSHOTS) {
      mkdirSync(join(REPO_ROOT, 'docs/img'), { recursive: true });
      await page
        .locator('section.history')
        .screenshot({ path: join(REPO_ROOT, 'docs/img/dashboard-history.png') });
    }
    await page.fill('#history-sn', 'PBW0002');
    await page.click('#history-form button[type="submit"]');
    await expect.poll(() => page.locator('#history-runs tbody tr').count()).toBe(1);
    expect(await page.locator('#history-runs tbody').textContent()).toContain('PBW0002');
    expect(await page.locator('#history-verify').textContent()).toMatch(/^Chain intact: \d+ records/);

    const html = await page.content();
    const storage = String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })'));
    const cookies = JSON.stringify(await context.cookies());
    for (const [where, text] of Object.entries({ html, storage, cookies, network: network.join('\n') }))
      expect(text.includes(ADMIN_PASSWORD), where).toBe(false);
    expect(daemon.stderr.includes(ADMIN_PASSWORD)).toBe(false);
    expect(daemon.stdout.includes(ADMIN_PASSWORD)).toBe(false);
    await context.close();
  }, 120_000);

  it('a failed Stop is said and stays said; a reload mid-run shows the run (one read); the stop and the end come as events', async () => {
    const { daemon, login } = await bench.startDashboardDaemon(START_MS);
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    let stateReads = 0;
    page.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === '/api/station') stateReads++;
    });
    await page.goto(login);
    await page.waitForSelector('body[data-station="idle"]');
    expect(stateReads).toBe(1);
    // PBW0009 is never plugged in: the run waits for it until stopped.
    const manifest = `sn,merchant,terminal\nPBW0001,${MERCHANT},30000001\nPBW0009,${MERCHANT},30000009\n`;
    await page.setInputFiles('#manifest', {
      name: 'bench.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(manifest),
    });
    await page.setInputFiles('#profile', {
      name: 'bench.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from('operators:\n  - id: "02"\n    name: Clerk\n    perms: [sale]\n'),
    });
    await page.fill('#admin-password', ADMIN_PASSWORD);
    await page.fill('#admin-password-again', ADMIN_PASSWORD);
    await page.click('#station-start');
    await page.waitForSelector('body[data-station="running"]', { timeout: 10_000 });
    const status = () => page.locator('#station-status').textContent();

    // A Stop that fails is said, with the daemon's words of what to do, and the run goes on. The
    // session gone (its cookie cleared): the daemon's own refusal.
    const cookies = await context.cookies();
    await context.clearCookies();
    await page.click('#station-stop');
    await expect
      .poll(status)
      .toMatch(
        /^Not stopped \(the run goes on taking terminals\): POST \/api\/station\/stop: no session or no CSRF token: reload the dashboard \(it sends the token itself\); nothing was changed\. Running: 0 of 2 done so far\./,
      );
    await context.addCookies(cookies);
    // The daemon out of reach (the connection refused).
    await page.route('**/api/station/stop', (route) => route.abort('connectionrefused'));
    await page.click('#station-stop');
    await expect
      .poll(status)
      .toMatch(
        /^Not stopped \(the run goes on taking terminals\): no answer from the daemon to \/api\/station\/stop: check that it still runs, then try again\. Running: 0 of 2 done so far\./,
      );
    await page.unroute('**/api/station/stop');
    expect(await page.isDisabled('#station-stop')).toBe(false);

    // The run still takes terminals: PBW0001 plugged in now is provisioned, and its progress
    // keeps the failure said.
    const mock = spawn([
      'mock',
      '--pty',
      bench.box.link('pos-PBW0001'),
      '--sn',
      'PBW0001',
      '--diag-time-scale',
      '0',
    ]);
    await mock.waitForStdout(/^mock terminal PBW0001 on pty /m, 'mock PBW0001', START_MS);
    await expect
      .poll(status, { timeout: 60_000 })
      .toMatch(
        /^Not stopped \(the run goes on taking terminals\): no answer .* Running: 1 of 2 done so far\./,
      );
    expect(stateReads).toBe(1);

    await page.reload();
    await page.waitForSelector('body[data-station="running"]', { timeout: 10_000 });
    expect(await status()).toMatch(/^Running: 1 of 2 done so far\./);
    expect(stateReads).toBe(2);
    await page.click('#station-stop');
    await page.waitForSelector('body[data-station="ended"]', { timeout: 30_000 });
    expect(await page.locator('#station-status').textContent()).toMatch(
      /^Ended \(signal\): 1 provisioned, 1 not-seen\./,
    );
    expect(stateReads).toBe(2);
    expect(daemon.stderr.includes(ADMIN_PASSWORD)).toBe(false);
    await context.close();
  }, 120_000);
});
