/**
 * The runs of `posbridge fleet status` and `posbridge fleet collect` (fleet.ts holds their options):
 * loaded when one of them runs.
 */
import { DepotStore } from '../../audit/index.js';
import { Collector, type CollectorEvent } from '../../daemon/mqtt/collector.js';
import { brokerUrlProblem, type MqttConfig } from '../../daemon/mqtt/config.js';
import { clientAuth, readMqttMaterial } from '../../daemon/mqtt/credentials.js';
import { brokerError, readFleetView, type StationView } from '../../daemon/mqtt/fleet-view.js';
import type { ConnectFn } from '../../daemon/mqtt/link.js';
import { prefixFilterProblem } from '../../daemon/mqtt/topics.js';
import { PosbridgeError } from '../../host/errors.js';
import { systemTimers } from '../../protocol/index.js';
import type { CliDeps } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { visible } from '../render.js';
import { printJson } from '../run-action.js';

export interface BrokerFlags {
  mqtt: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  prefixFilter: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  json?: boolean;
}

export type CollectFlags = BrokerFlags & { audit: string; group: string; clientId?: string };

export async function fleetStatus(deps: CliDeps, flags: BrokerFlags): Promise<number> {
  const broker = await brokerOf(deps, flags);
  const stations = await readFleetView({
    url: flags.mqtt,
    clientOptions: broker.clientOptions,
    connect: broker.connect,
    prefixFilter: flags.prefixFilter,
    timers: systemTimers,
  });
  if (flags.json) printJson(deps.io, { kind: 'fleet-status', stations });
  else deps.io.stdout.write(renderStations(stations));
  return EXIT.ok;
}

export async function fleetCollect(deps: CliDeps, flags: CollectFlags): Promise<number> {
  const broker = await brokerOf(deps, flags);
  const depot = DepotStore.open(flags.audit);
  const signals = deps.signals ?? process;
  let stop: (reason: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => stop(name);
  const handlers = [['SIGINT', onSignal('SIGINT')] as const, ['SIGTERM', onSignal('SIGTERM')] as const];
  for (const [name, handler] of handlers) signals.on(name, handler);
  let refused = 0;
  let fatal: Error | undefined;
  const clientId = flags.clientId ?? `posbridge-collect-${deps.hostname()}`;
  const collector = new Collector({
    depot,
    url: flags.mqtt,
    clientOptions: broker.clientOptions,
    clientId,
    connect: broker.connect,
    prefixFilter: flags.prefixFilter,
    group: flags.group,
    timers: systemTimers,
    logger: broker.logger,
    onEvent: (event) => {
      if (event.kind === 'record' && (event.result.kind === 'refused' || 'refused' in event.result))
        refused += 1;
      if (event.kind === 'fatal') {
        fatal = event.error;
        stop('the depot cannot be written');
      }
      writeEvent(deps, event);
    },
  });
  try {
    await collector.start().catch((failure: { level: 'error' | 'warn'; message: string }) => {
      throw brokerError(failure);
    });
    deps.io.stdout.write(
      `${visible(`collecting from ${flags.mqtt} (${flags.prefixFilter}, group ${flags.group}, client ID ${clientId}) into ${depot.file}`)}\n`,
    );
    const reason = await stopped;
    deps.io.stdout.write(`${visible(`collector stopped (${reason})`)}\n`);
    if (fatal) throw fatal;
    // A forged or broken record is a failed check, even though the rest was kept.
    return refused > 0 ? EXIT.refused : EXIT.ok;
  } finally {
    for (const [name, handler] of handlers) signals.off(name, handler);
    await collector.stop();
    depot.close();
  }
}

/** The flags as the daemon's `mqtt` section, checked the same way; the files read. */
async function brokerOf(deps: CliDeps, flags: BrokerFlags) {
  const urlProblem = brokerUrlProblem(flags.mqtt);
  if (urlProblem) throw new PosbridgeError('USAGE', `--mqtt ${urlProblem}`);
  const filterProblem = prefixFilterProblem(flags.prefixFilter);
  if (filterProblem) throw new PosbridgeError('USAGE', `--prefix-filter ${filterProblem}`);
  const tls = flags.mqtt.startsWith('mqtts:');
  for (const [flag, value] of [
    ['--ca', flags.ca],
    ['--cert', flags.cert],
    ['--key', flags.key],
  ] as const)
    if (value !== undefined && !tls) throw new PosbridgeError('USAGE', `${flag} is for mqtts:// only`);
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new PosbridgeError('USAGE', 'a client certificate needs both --cert and --key');
  if (flags.passwordFile !== undefined && flags.username === undefined)
    throw new PosbridgeError('USAGE', '--password-file needs --username');
  const config: MqttConfig = {
    url: flags.mqtt,
    reconnect: { minMs: 1000, maxMs: 60_000 },
    ...(flags.ca !== undefined && { ca: flags.ca }),
    ...(flags.cert !== undefined && { cert: flags.cert }),
    ...(flags.key !== undefined && { key: flags.key }),
    ...(flags.username !== undefined && { username: flags.username }),
    ...(flags.passwordFile !== undefined && { passwordFile: flags.passwordFile }),
  };
  const logger = deps.createLogger({ logLevel: flags.logLevel, logFormat: flags.logFormat });
  const material = await readMqttMaterial(config, logger).catch((error: unknown) => {
    // The config's field names, said as this command's flags.
    if (error instanceof PosbridgeError)
      throw new PosbridgeError(
        'USAGE',
        error.message
          .replace('mqtt.passwordFile', '--password-file')
          .replace(/the file mqtt\.(\w+) names/, (_, f: string) => `the file --${f} names`),
      );
    throw error;
  });
  const connect: ConnectFn = (await import('mqtt')).connect;
  return { clientOptions: clientAuth(material, flags.username), connect, logger };
}

function writeEvent(deps: CliDeps, event: CollectorEvent): void {
  const out = (line: string) => deps.io.stdout.write(`${visible(line)}\n`);
  const err = (line: string) => deps.io.stderr.write(`${visible(line)}\n`);
  switch (event.kind) {
    case 'connected':
      out(`connected${event.sessionPresent ? ' (the broker kept our session)' : ''}`);
      return;
    case 'failure':
      err(
        `${event.level === 'error' ? 'error' : 'warning'}: ${event.message}; trying again in ${event.retryInMs} ms`,
      );
      return;
    case 'unreadable':
      err(`warning: a message on ${event.topic} that is not an audit record: ${event.problem}`);
      return;
    case 'replay':
      out(`station ${event.station}: asking for its records from ${event.from} again`);
      return;
    case 'fatal':
      err(`error: ${event.error.message}`);
      return;
    case 'record': {
      const r = event.result;
      if (r.kind === 'appended') {
        const first = r.records[0]!.seq;
        const last = r.records[r.records.length - 1]!.seq;
        out(
          `station ${r.station}: records ${first === last ? first : `${first}-${last}`} appended (head ${last})`,
        );
        if (r.refused) err(`REFUSED ${r.refused.message}`);
      } else if (r.kind === 'held')
        out(`station ${r.station}: record ${r.seq} held: records from ${r.missingFrom} have not arrived`);
      else if (r.kind === 'refused') err(`REFUSED ${r.message}`);
      return;
    }
  }
}

function renderStations(stations: StationView[]): string {
  if (stations.length === 0) return 'no station has published to this broker\n';
  const lines: string[] = [];
  for (const s of stations) {
    const state = s.status
      ? `${s.status.state}${s.status.since ? ` since ${s.status.since}` : ''}${s.status.version ? `, posbridge ${s.status.version}` : ''}`
      : 'no status';
    lines.push(`station ${s.station} (${s.prefix}): ${state}`);
    lines.push(`  terminals: ${s.terminals.length === 0 ? 'none' : ''}`);
    for (const t of s.terminals)
      lines.push(
        `    ${t.sn}  ${t.model} fw ${t.fw}  ${t.state}${t.status ? `, ${t.status.state}${t.status.locked ? ', LOCKED' : ''}` : ''}  ${t.port}`,
      );
    lines.push(`  last runs: ${s.runs.length === 0 ? 'none' : ''}`);
    for (const r of s.runs)
      lines.push(
        `    ${r.startedAt}  ${r.kind}  ${r.outcome}  ${r.sn ?? r.port}  audit ${r.auditHead.slice(0, 24)}...`,
      );
    for (const u of s.unreadable) lines.push(`  unreadable: ${u}`);
  }
  return `${lines.map((l) => visible(l).trimEnd()).join('\n')}\n`;
}
