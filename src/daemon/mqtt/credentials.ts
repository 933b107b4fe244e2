/**
 * The files the `mqtt` config names (CA, client certificate and key, password), read once at
 * start: a missing or unreadable one stops the daemon before any port opens (exit 2, naming the
 * field and the file), like a witness that cannot be opened. The password stays a Secret until
 * the one place it is handed to the MQTT client.
 */
import { readFile as fsReadFile, stat } from 'node:fs/promises';
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import { PosbridgeError } from '../../host/errors.js';
import { Secret } from '../../host/secret.js';
import type { MqttConfig } from './config.js';

export interface MqttMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  password?: Secret;
}

export interface ReadFiles {
  readFile(path: string): Promise<Buffer>;
  mode(path: string): Promise<number>;
}

const nodeFiles: ReadFiles = {
  readFile: (path) => fsReadFile(path),
  mode: async (path) => (await stat(path)).mode,
};

async function readNamed(files: ReadFiles, field: string, path: string): Promise<Buffer> {
  try {
    return await files.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new PosbridgeError('USAGE', `cannot read the file mqtt.${field} names, ${path}: ${code}`, {
      hint: 'check the path in the daemon config (relative paths are relative to the config file) and its permissions',
      details: { field: `mqtt.${field}`, file: path },
    });
  }
}

export async function readMqttMaterial(
  config: MqttConfig,
  logger: Logger,
  files: ReadFiles = nodeFiles,
): Promise<MqttMaterial> {
  const material: MqttMaterial = {};
  if (config.ca !== undefined) material.ca = await readNamed(files, 'ca', config.ca);
  if (config.cert !== undefined) material.cert = await readNamed(files, 'cert', config.cert);
  if (config.key !== undefined) material.key = await readNamed(files, 'key', config.key);
  if (config.passwordFile !== undefined) {
    const text = (await readNamed(files, 'passwordFile', config.passwordFile)).toString('utf8');
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '')
      throw new PosbridgeError(
        'USAGE',
        `the password file ${config.passwordFile} (mqtt.passwordFile) is empty`,
        {
          hint: 'put the password on its first line',
          details: { field: 'mqtt.passwordFile', file: config.passwordFile },
        },
      );
    material.password = new Secret(line);
    // A password others can read is a leak waiting to happen: say so, use it anyway.
    const mode = await files.mode(config.passwordFile).catch(() => 0);
    if ((mode & 0o077) !== 0)
      logger.warn(
        { file: config.passwordFile },
        'the MQTT password file can be read by other users (chmod 600 it)',
      );
  }
  return material;
}

/**
 * What proves who we are, as the MQTT client takes it. The one place a password leaves its
 * Secret: into the client that sends it in CONNECT (never logged: pino never sees these options).
 */
export function clientAuth(
  material: MqttMaterial,
  username: string | undefined,
): Pick<IClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key'> {
  return {
    ...(username !== undefined && { username }),
    ...(material.password && { password: material.password.reveal() }),
    ...(material.ca && { ca: material.ca }),
    ...(material.cert && { cert: material.cert }),
    ...(material.key && { key: material.key }),
  };
}
