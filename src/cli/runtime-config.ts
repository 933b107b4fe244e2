/**
 * The first half of the composition root: what decides how a command runs, settled before
 * anything is opened (no port, no audit trail). Whether a posbridge daemon answers (it owns the
 * ports, so the operations go through it); else, when this process runs the port manager itself
 * (`posbridge daemon`, station mode without --port), the daemon config file, loaded and validated
 * (errors name the file and the field, exit 2); and the audit trail this process writes.
 * buildRuntime (runtime.ts) builds from it. docs/architecture.md, "The composition root".
 */
import type { LoadedConfig } from '../daemon/config/index.js';
import { type AuditTarget, auditTarget } from './audit-target.js';
import { type FoundDaemon, findDaemon } from './daemon-client.js';
import type { CliIo } from './io.js';

export interface RuntimeConfig {
  env: NodeJS.ProcessEnv;
  /** The daemon that answers: the operations go through it. */
  daemon?: FoundDaemon;
  /** The daemon config, when this process runs the port manager (and no daemon answers). */
  file?: LoadedConfig;
  /** The trail (and its witness) of what this process runs itself. */
  audit: AuditTarget;
}

export interface ConfigRequest {
  /** `--socket PATH`: a daemon must answer there. */
  socket?: string | undefined;
  /** Never through a daemon: `posbridge daemon` itself, and the demo with its own mock terminal. */
  inProcess?: boolean;
  /**
   * This process runs the port manager when no daemon answers: the daemon config is read
   * (`--config FILE`, else the default file; absent: defaults), with --baud and --timeout over it.
   */
  ports?: { file?: string | undefined; baudRate?: number | undefined; timeoutMs?: number | undefined };
  /** The audit trail instead of the user's (the demo's temporary one). */
  audit?: string | undefined;
}

export interface ConfigSystem {
  /** The user's uid: the default socket path and the socket ownership check. */
  uid: number;
  /** The station name when the config file gives none. */
  hostname(): string;
}

export async function loadRuntimeConfig(
  io: Pick<CliIo, 'env'>,
  request: ConfigRequest,
  system: ConfigSystem,
): Promise<RuntimeConfig> {
  const { env } = io;
  const daemon = request.inProcess ? undefined : await findDaemon(request.socket, env, system.uid);
  if (daemon) return { env, daemon, audit: auditTarget(env) };
  const ports = request.ports;
  // The config's reader (YAML, its schema) loads only for a process that runs the port manager.
  const file = ports
    ? await (await import('../daemon/config/index.js')).loadDaemonConfig({
        path: ports.file,
        env,
        hostname: () => system.hostname(),
      })
    : undefined;
  if (file && ports?.baudRate !== undefined) file.config.baud = ports.baudRate;
  if (file && ports?.timeoutMs !== undefined) file.config.timeouts.requestMs = ports.timeoutMs;
  // A process that runs the port manager records as the daemon would: the config's trail.
  const audit = request.audit !== undefined ? { file: request.audit } : auditTarget(env, file?.config);
  return { env, ...(file && { file }), audit };
}

/** The uid and host name from the command line's deps (the uid defaults to this process's). */
export function configSystem(deps: { uid?: (() => number) | undefined; hostname(): string }): ConfigSystem {
  return { uid: deps.uid?.() ?? process.getuid?.() ?? 0, hostname: () => deps.hostname() };
}
