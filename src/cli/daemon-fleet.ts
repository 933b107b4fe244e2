/**
 * Where the daemon meets its MQTT bridge (issue 16, docs/fleet.md): one function for the
 * composition root. Without an `mqtt` section in the config it does nothing at all (the mqtt
 * package is not even loaded). With one, it gives the witness the audit store must be opened
 * with (so the bridge hears of each new head) and, once the store and the port manager exist,
 * starts the bridge and hands back how to stop it.
 */
import type { Logger } from 'pino';
import type { AuditStore, HeadWitness } from '../audit/index.js';
import { HeadRelay, startFleetBridge } from '../daemon/mqtt/bridge.js';
import type { MqttConfig } from '../daemon/mqtt/config.js';
import type { TerminalHub } from '../host/hub.js';
import { VERSION } from './version.js';

export interface DaemonFleet {
  /** Open the audit store with this as (another) witness. */
  witness: HeadWitness;
  /** Starts publishing; resolves to the stop function (call it before closing the store). */
  start(context: {
    store: AuditStore;
    hub: TerminalHub;
    station: string;
    logger: Logger;
  }): Promise<() => Promise<void>>;
}

export function daemonFleet(mqtt: MqttConfig | undefined): DaemonFleet | undefined {
  if (mqtt === undefined) return undefined;
  const relay = new HeadRelay();
  return {
    witness: relay,
    start: async ({ store, hub, station, logger }) => {
      const bridge = await startFleetBridge({
        config: mqtt,
        station,
        version: VERSION,
        store,
        auditFile: store.file,
        hub,
        logger,
      });
      relay.listen((anchor) => bridge.record(anchor));
      return () => bridge.close();
    },
  };
}
