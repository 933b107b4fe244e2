/**
 * A page's station run on the event stream (docs/api.md, "Hub events"): station-started, one
 * station-progress per row with a result, station-ended once GET /api/station and the downloads
 * say it ended, so the page needs no polling. Every event is one the client's schema accepts;
 * the stream carries neither the admin password nor a merchant number.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hubEvent } from '../../src/daemon/api/hub-schemas.js';
import { SseParser } from '../../src/daemon/api/sse.js';
import type { Secret } from '../../src/host/secret.js';
import { ADMIN_PW, MERCHANT, type RunningDaemon, startDaemon } from './api-rig.helper.js';

const running: RunningDaemon[] = [];
const readers: Array<ReadableStreamDefaultReader<Uint8Array>> = [];
afterEach(async () => {
  for (const reader of readers.splice(0)) await reader.cancel().catch(() => undefined);
  for (const d of running.splice(0)) await d.stop();
});

const PROFILE = 'operators:\n  - id: "02"\n    name: Clerk\n    perms: [sale]\n';
const manifestOf = (rows: string[]) =>
  `sn,merchant,terminal\n${rows.map((sn, i) => `${sn},${MERCHANT},2000000${i + 1}`).join('\n')}\n`;

interface Seen {
  event: string;
  data: { type: string; [key: string]: unknown };
  raw: string;
}

async function bench() {
  const d = await startDaemon({
    dashboard: {
      listen: { host: '127.0.0.1', port: 0 },
      station: {
        station: 'bench-1',
        technician: 'tess',
        hostname: 'bench-host',
        credentials: {
          path: '/nonexistent/operator-passwords.txt',
          record: async (_sn, _id, _pw: Secret) => {},
        },
      },
    },
  });
  running.push(d);
  const { origin, loginUrl } = d.daemon.dashboard!;
  const login = await fetch(loginUrl!, { redirect: 'manual' });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const { csrf } = (await (await fetch(`${origin}/api/session`, { headers: { cookie } })).json()) as {
    csrf: string;
  };
  await d.portManager.plug('mock://a?sn=PBE0001');
  await d.portManager.plug('mock://b?sn=PBE0002');

  // The page's stream, as the browser reads it: every event and the raw text.
  const seen: Seen[] = [];
  const listeners: Array<(e: Seen) => void> = [];
  let raw = '';
  const reply = await fetch(`${origin}/api/events`, { headers: { cookie } });
  expect(reply.status).toBe(200);
  const reader = reply.body!.getReader();
  readers.push(reader);
  const parser = new SseParser(({ event, data }) => {
    const e = { event, data: JSON.parse(data), raw: data };
    seen.push(e);
    for (const listener of listeners) listener(e);
  });
  const decoder = new TextDecoder();
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      const text = decoder.decode(value, { stream: true });
      raw += text;
      parser.push(text);
      if (raw.includes(': posbridge events')) subscribed();
    }
  })();
  await ready;
  const post = (path: string, body: unknown) =>
    fetch(`${origin}/api/${path}`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = async (path: string) => fetch(`${origin}/api/${path}`, { headers: { cookie } });
  return { d, seen, listeners, raw: () => raw, post, get };
}

const stationEvents = (seen: Seen[]) => seen.filter((e) => e.event.startsWith('station-'));

describe("a page's station run on the event stream", () => {
  it('publishes its start, each row, and its end (after which the state and results say ended)', async () => {
    const { seen, listeners, raw, post, get } = await bench();
    // What the daemon serves as the end arrives on the stream (asked at once, from the parser).
    let atEnd: Promise<{ state: string; junit: number }> | undefined;
    listeners.push((e) => {
      if (e.event !== 'station-ended') return;
      atEnd = (async () => ({
        state: ((await (await get('station')).json()) as { state: string }).state,
        junit: (await get('station/junit')).status,
      }))();
    });
    const started = await post('station', {
      manifest: { name: 'bench.csv', text: manifestOf(['PBE0001', 'PBE0002']) },
      profile: { name: 'bench.yaml', text: PROFILE },
      adminPassword: ADMIN_PW,
    });
    expect(started.status).toBe(202);
    await expect.poll(() => atEnd !== undefined, { timeout: 15_000 }).toBe(true);

    const events = stationEvents(seen).map((e) => e.data);
    expect(events[0]).toEqual({ type: 'station-started', manifest: 'bench.csv', rows: 2 });
    const progress = events.filter((e) => e.type === 'station-progress');
    expect(progress.map((e) => e.done)).toEqual([1, 2]);
    expect(progress.map((e) => e.sn).sort()).toEqual(['PBE0001', 'PBE0002']);
    for (const e of progress) expect(e).toMatchObject({ outcome: 'provisioned', rows: 2 });
    expect(events.at(-1)).toMatchObject({
      type: 'station-ended',
      endedBy: 'complete',
      rows: 2,
      counts: { provisioned: 2, failed: 0 },
    });
    expect(events).toHaveLength(4);
    expect(await atEnd).toEqual({ state: 'ended', junit: 200 });
    // Each is an event the client's schema takes (GET /v1/events, `posbridge watch`).
    for (const e of stationEvents(seen)) expect(hubEvent.safeParse(e.data).success, e.raw).toBe(true);
    expect(raw()).not.toContain(ADMIN_PW);
    for (const e of stationEvents(seen)) expect(e.raw).not.toContain(MERCHANT);
  });

  it('a run stopped from the page ends on the stream as stopped (signal)', async () => {
    const { seen, post, get } = await bench();
    const reply = await post('station', {
      manifest: { name: 'bench.csv', text: manifestOf(['PBE0001', 'PBE0002', 'PBE0003']) },
      profile: { name: 'bench.yaml', text: PROFILE },
      adminPassword: ADMIN_PW,
    });
    expect(reply.status).toBe(202);
    // A page opened now reads the run once: running, and how many rows it has.
    expect(await (await get('station')).json()).toMatchObject({ state: 'running', total: 3 });
    expect((await post('station/stop', {})).status).toBe(200);
    await expect.poll(() => seen.some((e) => e.event === 'station-ended'), { timeout: 15_000 }).toBe(true);
    const ended = stationEvents(seen).at(-1)!.data;
    expect(ended).toMatchObject({ type: 'station-ended', endedBy: 'signal', rows: 3 });
    expect((ended.counts as Record<string, number>)['not-seen']).toBe(1);
  });

  it('a run that throws as it starts still ends on the stream (error), not running for ever', async () => {
    const { d, seen, post, get } = await bench();
    // The run's first look at the plugged terminals fails (a hub that broke).
    const list = d.portManager.list.bind(d.portManager);
    let broken = true;
    d.portManager.list = () => {
      if (broken) throw new Error('the hub broke');
      return list();
    };
    const reply = await post('station', {
      manifest: { name: 'bench.csv', text: manifestOf(['PBE0001']) },
      profile: { name: 'bench.yaml', text: PROFILE },
      adminPassword: ADMIN_PW,
    });
    broken = false;
    expect(reply.status).toBe(202);
    await expect
      .poll(() => stationEvents(seen).map((e) => e.data.type), { timeout: 10_000 })
      .toEqual(['station-started', 'station-ended']);
    expect(stationEvents(seen).at(-1)?.data).toMatchObject({ endedBy: 'error', rows: 1 });
    expect(((await (await get('station')).json()) as { state: string }).state).not.toBe('running');
  });
});
