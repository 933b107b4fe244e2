/**
 * What a supervisor sees live (docs/fleet.md, "Topics"): the station online or offline, each
 * terminal plugged in, the last runs, and each step as it happens. These are views, not the
 * record: the terminals and the last runs are retained (a newcomer gets them at once) and sent
 * again whole on every new connection; steps are QoS 0 and simply missed while the link is down
 * (the audit topic carries them for good).
 *
 * Terminals come from the port manager's events; steps and runs from the audit records as they
 * are committed (the same store the forwarder reads), so they carry the run ID of the trail.
 * A terminal retained by an earlier life of the daemon (killed before it could clear it) is
 * cleared once the broker shows it to us: we subscribe to our own terminal topics, and a
 * retained one we do not hold now is emptied.
 */
import type { Logger } from 'pino';
import type { AuditRun, ChainRecord, HistoryQuery } from '../../audit/index.js';
import type { HubEvent, TerminalHub, TerminalInfo } from '../../host/hub.js';
import type { PublishOptions } from './link.js';
import type { RunsPayload, StatusPayload, StepPayload, TerminalPayload } from './payloads.js';
import type { StationTopics } from './topics.js';
import { parseTopic } from './topics.js';

export interface LiveFeed {
  recordsAfter(seq: number, limit: number): ChainRecord[];
  history(query: HistoryQuery): AuditRun[];
  head(): { seq: number };
}

export interface LiveLink {
  readonly connected: boolean;
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
  subscribe(filters: string[], qos: 0 | 1): Promise<void>;
}

export interface LivePublisherOptions {
  link: LiveLink;
  topics: StationTopics;
  station: string;
  version: string;
  hub: TerminalHub;
  feed: LiveFeed;
  logger: Logger;
  now: () => Date;
  /** Runs in the retained `<prefix>/runs` (default 10). */
  lastRuns?: number;
}

const RETAINED: PublishOptions = { qos: 1, retain: true };

export function terminalMessage(
  station: string,
  t: TerminalInfo & { hello: { sn: string } },
): TerminalPayload {
  const s = t.status;
  return {
    v: 1,
    station,
    sn: t.hello.sn,
    model: t.hello.model,
    fw: t.hello.fw,
    port: t.port,
    state: t.state,
    since: t.since,
    ...(s && {
      status: {
        state: s.state,
        locked: s.locked,
        tamper: s.tamper,
        ...(s.attemptsLeft !== undefined && { attemptsLeft: s.attemptsLeft }),
        factoryPw: [...s.factoryPw],
        ...(s.merchant !== undefined && { merchant: s.merchant }),
        ...(s.terminal !== undefined && { terminal: s.terminal }),
        ...(s.name !== undefined && { name: s.name }),
      },
    }),
  };
}

export function runsMessage(station: string, runs: AuditRun[]): RunsPayload {
  return {
    v: 1,
    station,
    runs: runs.map((run) => ({
      run: run.runId,
      kind: run.kind,
      outcome: run.outcome,
      port: run.port,
      ...(run.terminal && { sn: run.terminal.sn, model: run.terminal.model }),
      startedAt: run.startedAt,
      ...(run.finishedAt !== undefined && { finishedAt: run.finishedAt }),
      auditHead: run.auditHead,
    })),
  };
}

export class LivePublisher {
  /** Serial numbers by port: a removal names the port, the topic names the terminal. */
  private readonly snOfPort = new Map<string, string>();
  private tap: number;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: LivePublisherOptions) {
    // Steps are live: a restarted daemon does not send the old ones again.
    this.tap = options.feed.head().seq;
  }

  start(): void {
    for (const terminal of this.options.hub.list()) this.remember(terminal);
    this.unsubscribe = this.options.hub.subscribe((event) => this.onHubEvent(event));
  }

  stop(): void {
    this.unsubscribe?.();
  }

  statusMessage(state: 'online' | 'offline', since?: Date): StatusPayload {
    return {
      v: 1,
      station: this.options.station,
      state,
      ...(since && { since: since.toISOString() }),
      ...(state === 'online' && { version: this.options.version }),
    };
  }

  /** A new connection: say we are online, and send every view whole. */
  up(): void {
    const { link, topics } = this.options;
    this.send(topics.status, JSON.stringify(this.statusMessage('online', this.options.now())), RETAINED);
    for (const terminal of this.options.hub.list()) this.publishTerminal(terminal);
    this.publishRuns();
    link.subscribe([topics.terminalsFilter], 1).catch((error: unknown) => this.failed('subscribe', error));
  }

  /** The orderly end: offline, retained (the last will is for a link that is lost). */
  offline(): Promise<void> {
    return this.options.link.publish(
      this.options.topics.status,
      JSON.stringify(this.statusMessage('offline', this.options.now())),
      RETAINED,
    );
  }

  /** A message on one of our terminal topics: a retained one we no longer hold is emptied. */
  onTerminalTopic(topic: string, payload: Buffer, retained: boolean): void {
    const parsed = parseTopic(topic);
    if (!retained || payload.length === 0 || parsed?.kind !== 'terminal') return;
    if (![...this.snOfPort.values()].includes(parsed.sn)) this.send(topic, '', RETAINED);
  }

  /** New audit records may be committed: steps go out, the last runs change with a start or end. */
  poke(): void {
    let runsChanged = false;
    for (;;) {
      const records = this.options.feed.recordsAfter(this.tap, 500);
      if (records.length === 0) break;
      for (const record of records) {
        this.tap = record.seq;
        if (record.type === 'run-start' || record.type === 'run-finish') runsChanged = true;
        if (record.type === 'step' && this.options.link.connected) this.publishStep(record);
      }
    }
    if (runsChanged) this.publishRuns();
  }

  private onHubEvent(event: HubEvent): void {
    if (event.type === 'terminal-added' || event.type === 'terminal-updated') {
      this.remember(event.terminal);
      this.publishTerminal(event.terminal);
    } else if (event.type === 'terminal-removed') {
      const sn = this.snOfPort.get(event.terminal.port);
      this.snOfPort.delete(event.terminal.port);
      // Another port may show the same terminal (two names for one device): keep it then.
      if (sn !== undefined && ![...this.snOfPort.values()].includes(sn))
        this.send(this.options.topics.terminal(sn), '', RETAINED);
    }
  }

  private remember(terminal: TerminalInfo): void {
    if (terminal.hello?.sn) this.snOfPort.set(terminal.port, terminal.hello.sn);
  }

  private publishTerminal(terminal: TerminalInfo): void {
    const hello = terminal.hello;
    if (!hello?.sn) return;
    const message = terminalMessage(this.options.station, { ...terminal, hello });
    this.send(this.options.topics.terminal(hello.sn), JSON.stringify(message), RETAINED);
  }

  private publishRuns(): void {
    if (!this.options.link.connected) return;
    const runs = this.options.feed.history({ limit: this.options.lastRuns ?? 10 });
    this.send(this.options.topics.runs, JSON.stringify(runsMessage(this.options.station, runs)), RETAINED);
  }

  private publishStep(record: ChainRecord): void {
    let step: Omit<StepPayload, 'v' | 'station' | 'run' | 'seq'>;
    try {
      step = JSON.parse(record.payload) as typeof step;
    } catch {
      return; // the forwarder sends it as it is; a live view can do without it
    }
    const message: StepPayload = {
      v: 1,
      station: this.options.station,
      run: record.run,
      seq: record.seq,
      step: step.step,
      outcome: step.outcome,
      detail: step.detail,
      startedAt: step.startedAt,
      finishedAt: step.finishedAt,
    };
    this.send(this.options.topics.steps(record.run), JSON.stringify(message), { qos: 0, retain: false });
  }

  /** Views are sent when connected and otherwise dropped: the next connection sends them whole. */
  private send(topic: string, payload: string, options: PublishOptions): void {
    if (!this.options.link.connected) return;
    this.options.link.publish(topic, payload, options).catch((error: unknown) => this.failed(topic, error));
  }

  private failed(what: string, error: unknown): void {
    this.options.logger.debug({ err: error, what }, 'an MQTT view was not sent (the link dropped)');
  }
}
