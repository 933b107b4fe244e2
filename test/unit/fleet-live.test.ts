/**
 * The live views a station publishes (docs/fleet.md, "Topics"): a terminal's retained message is
 * emptied when it is unplugged, and one a killed daemon left behind is emptied once the broker
 * shows it; the `mqtt` config section names its mistakes.
 */
import { describe, expect, it } from 'vitest';
import { parseDaemonConfig } from '../../src/daemon/config/index.js';
import type { PublishOptions } from '../../src/daemon/mqtt/link.js';
import { LivePublisher } from '../../src/daemon/mqtt/live.js';
import { stationTopics } from '../../src/daemon/mqtt/topics.js';
import { isPosbridgeError } from '../../src/host/errors.js';
import type { HubEvent, TerminalHub, TerminalInfo } from '../../src/host/hub.js';
import { silentLogger } from './daemon-wire.helper.js';

const terminal = (port: string, sn: string): TerminalInfo => ({
  port,
  state: 'present',
  since: '2026-12-05T00:00:00.000Z',
  hello: { proto: 1, sn, model: 'PB-MOCK', fw: '1.0.0', state: 'factory', caps: [] },
});

function rig(present: TerminalInfo[]) {
  let listener: ((event: HubEvent) => void) | undefined;
  const hub: TerminalHub = {
    list: () => present,
    subscribe: (l) => {
      listener = l;
      return () => undefined;
    },
  };
  const published: Array<{ topic: string; payload: string; options: PublishOptions }> = [];
  const live = new LivePublisher({
    link: {
      connected: true,
      publish: async (topic, payload, options) => {
        published.push({ topic, payload, options });
      },
      subscribe: async () => undefined,
    },
    topics: stationTopics('posbridge/a'),
    station: 'a',
    version: '0.1.0',
    hub,
    feed: { recordsAfter: () => [], history: () => [], head: () => ({ seq: 0 }) },
    logger: silentLogger,
    now: () => new Date('2026-12-05T00:00:00.000Z'),
  });
  live.start();
  return { live, published, emit: (event: HubEvent) => listener!(event) };
}

describe('LivePublisher', () => {
  it("empties an unplugged terminal's retained message, keeping one still shown by another port", () => {
    const { published, emit } = rig([
      terminal('mock://x', 'SN/1'),
      terminal('mock://y', 'SN-2'),
      terminal('mock://y2', 'SN-2'),
    ]);
    emit({ type: 'terminal-removed', terminal: { ...terminal('mock://x', 'SN/1'), state: 'gone' } });
    emit({ type: 'terminal-removed', terminal: { ...terminal('mock://y', 'SN-2'), state: 'gone' } });
    expect(published).toEqual([
      { topic: 'posbridge/a/terminals/SN%2F1', payload: '', options: { qos: 1, retain: true } },
    ]);
  });

  it('on connecting: online and every terminal, retained; a terminal left retained by an earlier life is emptied', () => {
    const { live, published } = rig([terminal('mock://x', 'SN-1')]);
    live.up();
    expect(published.map((p) => [p.topic, p.options.retain])).toEqual([
      ['posbridge/a/status', true],
      ['posbridge/a/terminals/SN-1', true],
      ['posbridge/a/runs', true],
    ]);
    expect(JSON.parse(published[0]!.payload)).toMatchObject({ v: 1, station: 'a', state: 'online' });
    published.length = 0;
    live.onTerminalTopic('posbridge/a/terminals/SN-1', Buffer.from('{}'), true);
    live.onTerminalTopic('posbridge/a/terminals/OLD-9', Buffer.from('{}'), false); // live: ours
    live.onTerminalTopic('posbridge/a/terminals/OLD-9', Buffer.from('{}'), true);
    expect(published).toEqual([
      { topic: 'posbridge/a/terminals/OLD-9', payload: '', options: { qos: 1, retain: true } },
    ]);
  });
});

describe('daemon config: the mqtt section', () => {
  const problem = (mqtt: Record<string, unknown>) => {
    try {
      parseDaemonConfig(JSON.stringify({ mqtt }), '/etc/posbridge/daemon.json', () => 'bench');
    } catch (error) {
      if (isPosbridgeError(error)) return error.message;
      throw error;
    }
    return 'no error';
  };

  it('paths are relative to the config file; defaults filled in', () => {
    const config = parseDaemonConfig(
      JSON.stringify({
        mqtt: { url: 'mqtts://broker:8883', ca: 'ca.crt', username: 'u', passwordFile: 'pw' },
      }),
      '/etc/posbridge/daemon.json',
      () => 'bench',
    );
    expect(config.mqtt).toEqual({
      url: 'mqtts://broker:8883',
      ca: '/etc/posbridge/ca.crt',
      username: 'u',
      passwordFile: '/etc/posbridge/pw',
      reconnect: { minMs: 1000, maxMs: 60_000 },
    });
  });

  it.each([
    [{ url: 'http://broker' }, /mqtt\.url: "http:\/\/" is not mqtt:\/\/ or mqtts:\/\//],
    [
      { url: 'mqtt://u:p@broker' },
      /must not hold a user or password: use mqtt\.username and mqtt\.passwordFile/,
    ],
    [{ url: 'mqtt://broker', password: 'x' }, /a password never goes in the config file/],
    [{ url: 'mqtt://broker', ca: 'ca.crt' }, /mqtt\.ca: is for mqtts:\/\/ only/],
    [{ url: 'mqtts://broker', cert: 'c.crt' }, /a client certificate needs both cert and key/],
    [{ url: 'mqtt://broker', passwordFile: 'pw' }, /mqtt\.passwordFile: needs mqtt\.username/],
    [{ url: 'mqtt://broker', prefix: 'posbridge/#' }, /mqtt\.prefix: must not hold the wildcards/],
  ])('%j is refused, naming the field', (mqtt, message) => {
    expect(problem(mqtt)).toMatch(message);
  });
});
