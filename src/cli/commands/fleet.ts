/**
 * `posbridge fleet status` and `posbridge fleet collect` (docs/fleet.md): the depot's view of
 * every station, and its one record, from an MQTT broker alone. The broker options are the
 * daemon's `mqtt` section as flags; the password comes from a file (never argv).
 */
import type { Command } from 'commander';
import { DEFAULT_PREFIX_FILTER } from '../../daemon/mqtt/topics.js';
import type { CliDeps } from '../context.js';
import { runAction } from '../run-action.js';
import type { BrokerFlags, CollectFlags } from './fleet-run.js';

// The MQTT client, the depot and SQLite load when a fleet command runs (start-up: cli-startup.test.ts).
const run = () => import('./fleet-run.js');

function brokerOptions(command: Command): Command {
  return command
    .requiredOption('--mqtt <url>', 'the broker: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]')
    .option('--username <name>', 'the user name the broker knows')
    .option('--password-file <file>', "a file whose first line is the user's password")
    .option('--ca <file>', "mqtts://: the CA certificate(s) that signed the broker's (PEM)")
    .option('--cert <file>', 'mqtts://: a client certificate (PEM), with --key')
    .option('--key <file>', "mqtts://: the client certificate's key (PEM)")
    .option('--prefix-filter <filter>', "matches every station's topic prefix", DEFAULT_PREFIX_FILTER)
    .option('--log-level <level>', 'log level for stderr', 'warn')
    .option('--log-format <format>', 'json or pretty', 'pretty');
}

export function registerFleet(program: Command, deps: CliDeps): void {
  const fleet = program
    .command('fleet')
    .description("a depot's stations, from the MQTT broker they publish to (docs/fleet.md)")
    .addHelpText('after', '\nExample:\n  posbridge fleet status --mqtt mqtt://broker.depot\n');

  brokerOptions(
    fleet
      .command('status')
      .description('every station the broker knows, online or not, its terminals and last runs'),
  )
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  posbridge fleet status --mqtt mqtt://broker.depot\n')
    .action((flags: BrokerFlags) =>
      runAction(deps, flags, async () => (await run()).fleetStatus(deps, flags)),
    );

  brokerOptions(
    fleet
      .command('collect')
      .description("every station's audit records into one depot file, each chain checked as it arrives"),
  )
    .requiredOption('--audit <file>', 'the depot file (created if absent)')
    .option('--group <name>', 'the shared subscription group of the collectors of one depot', 'posbridge')
    .option('--client-id <id>', "this collector's client ID (its persistent session)")
    .addHelpText(
      'after',
      '\nExample:\n  posbridge fleet collect --mqtt mqtts://broker.depot --ca ca.crt --username depot --password-file depot.pw --audit depot.sqlite3\n  posbridge report --audit depot.sqlite3\n',
    )
    .action((flags: CollectFlags) =>
      runAction(deps, flags, async () => (await run()).fleetCollect(deps, flags)),
    );
}
