/**
 * Finding, reading and validating the daemon's config file. The default location is
 * `$XDG_CONFIG_HOME/posbridge/daemon.yaml` (`~/.config/...` without XDG_CONFIG_HOME); an absent file
 * there means "all defaults". A file named explicitly (`--config FILE`) must exist. A `.json` file is
 * read as JSON, anything else as YAML. Every error names the file and the field.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { homedir as osHomedir, hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { type Document, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { z } from 'zod';
import { PosbridgeError } from '../../host/errors.js';
import { resolveMqttConfig } from '../mqtt/config.js';
import { CONFIG_DEFAULTS, type DaemonConfig, daemonConfigSchema, suggest } from './schema.js';

export interface ConfigProblem {
  /** The field, as a path: `timeouts.heartbeatMs`, `allow[2]`, `(top level)`. */
  field: string;
  message: string;
}

export interface LoadConfigOptions {
  /** A file named by the user (`--config`): it must exist. Default: the default location. */
  path?: string | undefined;
  /** For XDG_CONFIG_HOME and HOME. Default: process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  homedir?: (() => string) | undefined;
  /** The station name when the file gives none. Default: os.hostname(). */
  hostname?: (() => string) | undefined;
  readFile?: ((path: string) => Promise<string>) | undefined;
}

export interface LoadedConfig {
  config: DaemonConfig;
  /** The file looked at. */
  path: string;
  /** False when the default file is absent (the config is all defaults). */
  found: boolean;
}

/** `$XDG_CONFIG_HOME/posbridge/daemon.yaml`, or `~/.config/posbridge/daemon.yaml`. */
export function defaultConfigPath(
  env: NodeJS.ProcessEnv = process.env,
  homedir: () => string = osHomedir,
): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg?.startsWith('/') ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'posbridge', 'daemon.yaml');
}

/** The configuration with every default (no file). */
export function defaultDaemonConfig(hostname: () => string = osHostname): DaemonConfig {
  return resolve({ timeouts: { ...CONFIG_DEFAULTS.timeouts } }, hostname);
}

export async function loadDaemonConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const path = options.path ?? defaultConfigPath(options.env, options.homedir);
  const read = options.readFile ?? ((file: string) => fsReadFile(file, 'utf8'));
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.path === undefined)
      return { config: defaultDaemonConfig(options.hostname), path, found: false };
    throw new PosbridgeError(
      'USAGE',
      `cannot read the config file ${path}: ${code ?? (error as Error).message}`,
      {
        hint:
          code === 'ENOENT'
            ? 'Check the path given to --config (docs/daemon.md describes the file).'
            : 'Check the file permissions.',
        details: { file: path },
        cause: error,
      },
    );
  }
  return { config: parseDaemonConfig(text, path, options.hostname), path, found: true };
}

/**
 * A relative `audit` path is relative to the config file, not to whichever directory the daemon
 * was started in (a systemd unit and a shell would otherwise write two different trails).
 */
function auditRelativeTo(file: string, audit: string): string {
  return isAbsolute(audit) ? audit : resolvePath(dirname(resolvePath(file)), audit);
}

/** Parses and validates the text of a config file; `file` names it in errors (`.json`: JSON, else YAML). */
export function parseDaemonConfig(
  text: string,
  file: string,
  hostname: () => string = osHostname,
): DaemonConfig {
  const json = /\.json$/i.test(file);
  let data: unknown;
  if (json) {
    try {
      data = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw syntaxError(file, 'JSON', (error as Error).message);
    }
  } else {
    const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const first = document.errors[0];
    if (first) throw syntaxError(file, 'YAML', first.message.split('\n')[0]!.replace(/:\s*$/, ''));
    keepUsbIdsAsWritten(document);
    data = document.toJS();
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw invalid(file, [
      { field: '(top level)', message: 'must be a mapping of fields (station, allow, ports, ...)' },
    ]);
  }
  const result = daemonConfigSchema.safeParse(data);
  if (!result.success) throw invalid(file, problemsOf(result.error));
  return resolve(result.data, hostname, file);
}

/**
 * USB IDs are hex: `- 0403` or `vendorId: 0x10c4` unquoted are numbers to YAML (403, 4292). Keep
 * such scalars of `allow` as the text written, so they read as the hex digits the person typed.
 */
function keepUsbIdsAsWritten(document: Document): void {
  const allow = document.get('allow', true);
  if (!isSeq(allow)) return;
  const asWritten = (node: unknown): void => {
    if (isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string')
      node.value = node.source;
  };
  for (const item of allow.items) {
    asWritten(item);
    if (isMap(item)) for (const pair of item.items) asWritten(pair.value);
  }
}

function resolve(
  data: z.output<typeof daemonConfigSchema>,
  hostname: () => string,
  file = '.',
): DaemonConfig {
  const config: DaemonConfig = {
    station: data.station ?? safeHostname(hostname),
    allow: data.allow ?? CONFIG_DEFAULTS.allow.map((id) => ({ ...id })),
    ports: data.ports ?? [...CONFIG_DEFAULTS.ports],
    watch: data.watch ?? [...CONFIG_DEFAULTS.watch],
    baud: data.baud ?? CONFIG_DEFAULTS.baud,
    timeouts: { ...data.timeouts },
  };
  if (data.audit?.file !== undefined) config.audit = auditRelativeTo(file, data.audit.file);
  if (data.audit?.witness !== undefined) config.auditWitness = data.audit.witness; // absolute (schema)
  if (data.maxNamedPorts !== undefined) config.maxNamedPorts = data.maxNamedPorts;
  if (data.mqtt !== undefined) config.mqtt = resolveMqttConfig(data.mqtt, file);
  if (data.http !== undefined) config.http = data.http;
  return config;
}

function safeHostname(hostname: () => string): string {
  try {
    return hostname() || 'station';
  } catch {
    return 'station';
  }
}

/** `allow[2]`, `timeouts.heartbeatMs`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text || '(top level)';
}

function problemsOf(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          field: fieldPath([...issue.path, key]),
          message: `unknown field${suggest(key)}`,
        });
      }
      continue;
    }
    problems.push({ field: fieldPath(issue.path), message: issue.message });
  }
  return problems;
}

function syntaxError(file: string, kind: 'JSON' | 'YAML', detail: string): PosbridgeError {
  return new PosbridgeError('USAGE', `config file ${file} is not valid ${kind}: ${detail}`, {
    hint: 'Fix the file: a .json name is read as JSON, anything else as YAML (docs/daemon.md).',
    details: { file },
  });
}

function invalid(file: string, problems: ConfigProblem[]): PosbridgeError {
  const lines = problems.map((p) => `${p.field}: ${p.message}`);
  return new PosbridgeError('USAGE', `config file ${file}: ${lines.join('; ')}`, {
    hint: 'Fix the field(s) named; docs/daemon.md lists every field with its default.',
    details: { file, problems },
  });
}
