/**
 * The `mqtt` section of the daemon config (docs/daemon.md, "Publishing to an MQTT broker"): the
 * broker, how to prove who we are to it, and where our topics go. Validated with the rest of the
 * file, so a mistake is named before any port opens. A password never sits in the config file
 * (nor in the URL): `passwordFile` names a file of its own, read at start.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

export const MQTT_DEFAULTS = {
  /** The first wait before connecting again, doubled after each failure up to `maxMs`. */
  reconnect: { minMs: 1000, maxMs: 60_000 },
} as const;

const filePath = (what: string) =>
  z.string({ error: `must be the path of the ${what}` }).min(1, `must be the path of the ${what}`);

const ms = (min: number, max: number) =>
  z
    .number({ error: `must be a whole number of milliseconds from ${min} to ${max}` })
    .int(`must be a whole number of milliseconds from ${min} to ${max}`)
    .min(min, `must be a whole number of milliseconds from ${min} to ${max}`)
    .max(max, `must be a whole number of milliseconds from ${min} to ${max}`);

/** A topic prefix: levels of printable text, no wildcard, no empty level, not a `$` topic. */
export function topicPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0 || prefix.length > 200) return 'must be 1 to 200 characters';
  if (/[+#]/.test(prefix)) return 'must not hold the wildcards + or #';
  if (prefix.startsWith('$')) return 'must not start with $ (topics the broker keeps for itself)';
  if (prefix.split('/').some((level) => level === '')) return 'must not start or end with / nor hold //';
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return 'must not hold control characters';
  return undefined;
}

/** mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; never a user or password in it. */
export function brokerUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text.slice(0, 80)}" is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]`;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:')
    return `"${url.protocol}//" is not mqtt:// or mqtts:// (the broker's address, e.g. mqtts://broker.depot:8883)`;
  if (url.hostname === '') return 'names no host';
  if (url.password !== '' || url.username !== '')
    return 'must not hold a user or password: use mqtt.username and mqtt.passwordFile';
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '')
    return 'must be only mqtt[s]://HOST[:PORT]';
  return undefined;
}

export const mqttConfigSchema = z
  .object({
    /** The broker: mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (8883, TLS). */
    url: z
      .string({ error: 'must be the broker address, mqtt://HOST[:PORT] or mqtts://HOST[:PORT]' })
      .superRefine((url, ctx) => {
        const problem = brokerUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    /** mqtts://: the CA certificate(s) that signed the broker's (PEM); default: the system's. */
    ca: filePath('CA certificate file (PEM)').optional(),
    /** mqtts://: our client certificate (PEM), with `key`. */
    cert: filePath('client certificate file (PEM)').optional(),
    key: filePath('client key file (PEM)').optional(),
    username: z.string({ error: 'must be a user name' }).min(1).max(256).optional(),
    /** A file whose first line is the password of `username`. */
    passwordFile: filePath('password file').optional(),
    /** Never here: said plainly, rather than "unknown field". */
    password: z
      .unknown()
      .refine(
        () => false,
        'a password never goes in the config file: write it in a file of its own (chmod 600) and name that file in mqtt.passwordFile',
      )
      .optional(),
    /** Where this station's topics go. Default: posbridge/<station>. */
    prefix: z
      .string({ error: 'must be a topic prefix such as posbridge/bench-3' })
      .superRefine((prefix, ctx) => {
        const problem = topicPrefixProblem(prefix);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** The MQTT client ID. Default: posbridge-<station>. */
    clientId: z.string({ error: 'must be a client ID' }).min(1).max(128).optional(),
    reconnect: z
      .object({
        minMs: ms(100, 600_000).default(MQTT_DEFAULTS.reconnect.minMs),
        maxMs: ms(100, 3_600_000).default(MQTT_DEFAULTS.reconnect.maxMs),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((mqtt, ctx) => {
    const tls = mqtt.url.startsWith('mqtts:');
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (mqtt[field] !== undefined && !tls)
        ctx.addIssue({ code: 'custom', path: [field], message: 'is for mqtts:// only (the url is mqtt://)' });
    }
    if ((mqtt.cert === undefined) !== (mqtt.key === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [mqtt.cert === undefined ? 'cert' : 'key'],
        message: 'a client certificate needs both cert and key',
      });
    if (mqtt.passwordFile !== undefined && mqtt.username === undefined)
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'needs mqtt.username' });
    if (mqtt.reconnect.maxMs < mqtt.reconnect.minMs)
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'maxMs'], message: 'must not be below minMs' });
  });

/** The `mqtt` section with its defaults, paths absolute. */
export interface MqttConfig {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
  username?: string;
  passwordFile?: string;
  /** Absent: posbridge/<station> (topics.ts). */
  prefix?: string;
  clientId?: string;
  reconnect: { minMs: number; maxMs: number };
}

/** Paths relative to the config file's directory, as `audit` is (never to the daemon's cwd). */
export function resolveMqttConfig(data: z.output<typeof mqttConfigSchema>, configFile: string): MqttConfig {
  const base = dirname(resolve(configFile));
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const { password: _never, ...rest } = data;
  return {
    ...rest,
    ...(rest.ca !== undefined && { ca: path(rest.ca) }),
    ...(rest.cert !== undefined && { cert: path(rest.cert) }),
    ...(rest.key !== undefined && { key: path(rest.key) }),
    ...(rest.passwordFile !== undefined && { passwordFile: path(rest.passwordFile) }),
  };
}
