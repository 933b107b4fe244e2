/**
 * The daemon's event stream over its socket, resumed: a watcher that lost its connection sends
 * the last ID it saw (Last-Event-ID, as EventSource does) and gets what it missed, in order,
 * under the same IDs; an ID from before a restart gets a resync with the terminal list. And
 * GET /v1/status: what each port is busy with, and how its last operation ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_PW,
  call,
  EventStream,
  MERCHANT,
  type RunningDaemon,
  startDaemon,
  TERMINAL,
} from './api-rig.helper.js';

const running: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function daemon(): Promise<RunningDaemon> {
  const d = await startDaemon();
  running.push(d);
  return d;
}

describe('GET /v1/events with Last-Event-ID', () => {
  it('replays what happened while the watcher was away, under the same IDs', async () => {
    const d = await daemon();
    const first = await EventStream.open(d.socket, 'GET', '/v1/events');
    await d.portManager.plug('mock://a');
    const added = await first.waitFor((e) => e.event === 'terminal-added', 'terminal-added');
    expect(added.id).toMatch(/^[0-9a-z]+-\d+$/);
    first.close();
    // While nobody watches: a is pulled out, b plugged in.
    await d.portManager.unplug('mock://a');
    await d.portManager.plug('mock://b');
    const resumed = await EventStream.open(d.socket, 'GET', '/v1/events', undefined, {
      headers: { 'last-event-id': added.id! },
    });
    await resumed.waitFor(
      (e) => e.event === 'terminal-added' && e.data.terminal.port === 'mock://b',
      'b added (replayed)',
    );
    const seen = resumed.events.filter((e) => e.event.startsWith('terminal-'));
    expect(seen.map((e) => [e.event, e.data.terminal.port])).toEqual(
      expect.arrayContaining([
        ['terminal-removed', 'mock://a'],
        ['terminal-added', 'mock://b'],
      ]),
    );
    // Nothing from before the ID, and the IDs go on from it.
    expect(seen.some((e) => e.event === 'terminal-added' && e.data.terminal.port === 'mock://a')).toBe(false);
    const seqs = resumed.events.map((e) => Number(e.id!.split('-')[1]));
    expect(seqs[0]).toBe(Number(added.id!.split('-')[1]) + 1);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    resumed.close();
  });

  it('an ID from another life of the daemon gets a resync with the terminals as they are', async () => {
    const d = await daemon();
    await d.portManager.plug('mock://a');
    const stream = await EventStream.open(d.socket, 'GET', '/v1/events', undefined, {
      headers: { 'last-event-id': 'zzzz-12' },
    });
    const resync = await stream.waitFor((e) => e.event === 'resync', 'resync');
    expect(resync.data).toMatchObject({ type: 'resync', reason: 'restarted' });
    expect(resync.data.terminals.map((t: { port: string }) => t.port)).toEqual(['mock://a']);
    expect(resync.id).toMatch(/^[0-9a-z]+-\d+$/);
    expect(resync.id!.startsWith('zzzz-')).toBe(false);
    stream.close();
  });
});

describe('GET /v1/status', () => {
  it('gives each terminal its last result, and operation-started precedes the steps', async () => {
    const d = await daemon();
    await d.portManager.plug('mock://a');
    const hub = await EventStream.open(d.socket, 'GET', '/v1/events');
    const before = await call(d.socket, 'GET', '/v1/status');
    expect(before.json.terminals).toEqual([expect.objectContaining({ port: 'mock://a', state: 'present' })]);
    expect(before.json.terminals[0].lastResult).toBeUndefined();
    const reply = await call(d.socket, 'POST', '/v1/provision', {
      request: {
        port: 'mock://a',
        merchant: MERCHANT,
        terminal: TERMINAL,
        adminPassword: ADMIN_PW,
        technician: 'tech',
        station: 'bench-1',
      },
      recordGenerated: false,
    });
    expect(reply.status).toBe(200);
    await hub.waitFor((e) => e.event === 'operation-finished', 'operation-finished');
    const names = hub.events.map((e) => e.event).filter((n) => n.startsWith('operation') || n === 'step');
    expect(names[0]).toBe('operation-started');
    expect(hub.events.find((e) => e.event === 'operation-started')!.data).toMatchObject({
      port: 'mock://a',
      operation: 'provision',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const after = await call(d.socket, 'GET', '/v1/status');
    expect(after.json.terminals[0]).toMatchObject({
      port: 'mock://a',
      lastResult: { operation: 'provision', outcome: 'provisioned' },
    });
    expect(after.json.terminals[0].activity).toBeUndefined();
    expect(after.text).not.toContain(ADMIN_PW);
    hub.close();
  });
});
