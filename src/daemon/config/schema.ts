/**
 * The daemon's config file (docs/daemon.md): what the daemon may talk to (the allow-list of USB
 * IDs, extra ports), where it looks for hot-plug, its station name and its timeouts. Validated
 * with zod at the boundary so that an error names the file and the field, before any port opens.
 */
import { z } from 'zod';
import { DEFAULT_TERMINAL_IDS, type UsbId } from '../../host/ports/list.js';
import { isTelnetScheme, parseTelnetPortName } from '../../host/ports/telnet/url.js';
import { checkListen, type ListenAddress, listenFieldProblem } from '../http/listen.js';
import { type MqttConfig, mqttConfigSchema } from '../mqtt/config.js';

/** Defaults of every optional field (the station defaults to the host name, at load time). */
export const CONFIG_DEFAULTS = {
  allow: DEFAULT_TERMINAL_IDS,
  ports: [] as readonly string[],
  watch: ['/dev'] as readonly string[],
  baud: 115_200,
  timeouts: { requestMs: 2000, identifyMs: 5000, heartbeatMs: 5000 },
} as const;

const HEX4 = /^(?:0x)?([0-9a-fA-F]{4})$/;
const USB_ID_TEXT = /^(?:0x)?([0-9a-fA-F]{4})(?::(?:0x)?([0-9a-fA-F]{4}))?$/;
const SCHEME_NAME = /^([a-z][a-z0-9+.-]*):\/\/(.+)$/i;
const WILDCARD = /[*?[]/;

const hex4 = (what: string) =>
  z
    .string({ error: `must be a ${what} as 4 hex digits, e.g. "0b00"` })
    .regex(HEX4, `must be a ${what} as 4 hex digits, e.g. "0b00"`)
    .transform((text) => HEX4.exec(text)![1]!.toLowerCase());

const allowObject = z
  .object({
    vendorId: hex4('USB vendor ID'),
    productId: hex4('USB product ID').optional(),
    label: z.string().min(1).max(64).optional(),
  })
  .strict();

const ALLOW_ENTRY_HELP =
  'must be "VVVV" (a USB vendor ID), "VVVV:PPPP" (vendor and product), "defaults" (the built-in list) or { vendorId, productId, label }';

/** One allow-list entry, before "defaults" is expanded. */
const allowEntry = z.unknown().transform((entry, ctx): UsbId[] => {
  if (typeof entry === 'string') {
    if (entry === 'defaults') return DEFAULT_TERMINAL_IDS.map((id) => ({ ...id }));
    const match = USB_ID_TEXT.exec(entry.trim());
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `${ALLOW_ENTRY_HELP}, not "${entry.slice(0, 40)}"` });
      return z.NEVER;
    }
    return [usbId(match[1]!.toLowerCase(), match[2]?.toLowerCase())];
  }
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const result = allowObject.safeParse(entry);
    if (result.success) {
      const { vendorId, productId, label } = result.data;
      return [usbId(vendorId, productId, label)];
    }
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          ctx.addIssue({
            code: 'custom',
            path: [...issue.path, key],
            message: `unknown field${suggest(key)}`,
          });
      } else ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: ALLOW_ENTRY_HELP });
  return z.NEVER;
});

function usbId(vendorId: string, productId?: string, label?: string): UsbId {
  return {
    vendorId,
    ...(productId !== undefined && { productId }),
    label: label ?? `USB ${vendorId}${productId ? `:${productId}` : ''}`,
  };
}

const KNOWN_FIELDS = [
  'station',
  'allow',
  'ports',
  'watch',
  'baud',
  'timeouts',
  'audit',
  'file',
  'witness',
  'requestMs',
  'identifyMs',
  'heartbeatMs',
  'namedIdleMs',
  'maxNamedPorts',
  'vendorId',
  'productId',
  'label',
  'mqtt',
  'url',
  'username',
  'passwordFile',
  'prefix',
  'clientId',
  'reconnect',
  'http',
  'listen',
  'allowRemote',
];

/** ` (did you mean timeouts?)` for a near miss of a known field, else ''. */
export function suggest(key: string): string {
  const lower = key.toLowerCase().replace(/[-_]/g, '');
  const near = KNOWN_FIELDS.find((known) => {
    const k = known.toLowerCase();
    return k === lower || k === `${lower}s` || `${k}s` === lower || (lower.length > 3 && k.startsWith(lower));
  });
  return near ? ` (did you mean ${near}?)` : '';
}

/**
 * A port the daemon manages: an absolute device path (a wildcard allowed in its last part:
 * `/dev/serial/by-id/usb-PAX_*`, `/tmp/pos[0-9]`), or a URL such as tcp://HOST:PORT,
 * rfc2217://HOST:PORT[?options] or mock://NAME.
 */
export function portEntryProblem(entry: string): string | undefined {
  const scheme = SCHEME_NAME.exec(entry);
  if (scheme) {
    if (scheme[1]!.toLowerCase() === 'tcp') {
      let url: URL | undefined;
      try {
        url = new URL(entry);
      } catch {
        url = undefined;
      }
      const port = Number(url?.port);
      if (!url || url.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535)
        return `"${entry}" is not tcp://HOST:PORT (port 1-65535)`;
    }
    if (isTelnetScheme(scheme[1]!.toLowerCase())) {
      try {
        parseTelnetPortName(entry);
      } catch (error) {
        return (error as Error).message;
      }
    }
    return undefined;
  }
  if (!entry.startsWith('/'))
    return `"${entry}" must be an absolute device path (/dev/ttyUSB0) or a URL such as tcp://HOST:PORT`;
  const parts = entry.split('/');
  if (parts.slice(0, -1).some((part) => WILDCARD.test(part)))
    return `"${entry}": a wildcard (*, ?, [...]) may appear only in the last part of the path`;
  if (parts.at(-1) === '') return `"${entry}" names a directory, not a port`;
  return undefined;
}

const portEntry = z
  .string({ error: 'must be a port name (a device path or tcp://HOST:PORT)' })
  .min(1, 'must not be empty')
  .superRefine((entry, ctx) => {
    const problem = portEntryProblem(entry);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const watchEntry = z
  .string({ error: 'must be a directory path' })
  .refine((dir) => dir.startsWith('/'), 'must be an absolute directory path, e.g. /dev');

const ms = (min: number, max: number, unit = 'milliseconds') =>
  z
    .number({ error: `must be a whole number of ${unit} from ${min} to ${max}` })
    .int(`must be a whole number of ${unit} from ${min} to ${max}`)
    .min(min, `must be a whole number of ${unit} from ${min} to ${max}`)
    .max(max, `must be a whole number of ${unit} from ${min} to ${max}`);

const AUDIT_HELP =
  'must be a file path, or { file, witness } (docs/daemon.md, "The audit trail and its witness")';

const auditObject = z
  .object({
    /** The audit store (SQLite file). */
    file: z.string({ error: 'must be a file path' }).min(1, 'must not be empty').optional(),
    /**
     * A file on other storage that gets every new head of the trail, one line each. Absolute: the
     * daemon's working directory is no place to decide where evidence goes.
     */
    witness: z
      .string({ error: 'must be an absolute file path' })
      .refine(
        (path) => path.startsWith('/'),
        'must be an absolute file path, on other storage than the trail',
      )
      .optional(),
  })
  .strict();

/** `audit: PATH` (the store alone) or `audit: { file, witness }`. */
const auditEntry = z.unknown().transform((entry, ctx): { file?: string; witness?: string } => {
  if (typeof entry === 'string') {
    if (entry !== '') return { file: entry };
    ctx.addIssue({ code: 'custom', message: 'must not be empty' });
    return z.NEVER;
  }
  if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    const result = auditObject.safeParse(entry);
    if (result.success) {
      const { file, witness } = result.data;
      return { ...(file !== undefined && { file }), ...(witness !== undefined && { witness }) };
    }
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          ctx.addIssue({
            code: 'custom',
            path: [...issue.path, key],
            message: `unknown field${suggest(key)}`,
          });
      } else ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: AUDIT_HELP });
  return z.NEVER;
});

const HEARTBEAT_HELP = 'must be 0 (off) or a whole number of milliseconds from 100 to 86400000';
const NAMED_IDLE_HELP = 'must be 0 (never) or a whole number of milliseconds from 1000 to 604800000';

const timeoutsSchema = z
  .object({
    /** Reply timeout of one request (the session retransmits after it). */
    requestMs: ms(100, 600_000).default(CONFIG_DEFAULTS.timeouts.requestMs),
    /** Bound on HELLO + STATUS of a port that appeared; no valid reply by then: not TSP/1. */
    identifyMs: ms(100, 600_000).default(CONFIG_DEFAULTS.timeouts.identifyMs),
    /** Idle links get a STATUS this often; 0 turns the heartbeat off. */
    heartbeatMs: z
      .number({ error: HEARTBEAT_HELP })
      .refine((v) => v === 0 || (Number.isInteger(v) && v >= 100 && v <= 86_400_000), HEARTBEAT_HELP)
      .default(CONFIG_DEFAULTS.timeouts.heartbeatMs),
    /**
     * A port opened because a command named it (not listed by discovery) is closed and forgotten
     * after this long without a lease; 0: never. Default (port manager): 600000.
     */
    namedIdleMs: z
      .number({ error: NAMED_IDLE_HELP })
      .refine((v) => v === 0 || (Number.isInteger(v) && v >= 1000 && v <= 604_800_000), NAMED_IDLE_HELP)
      .optional(),
  })
  .strict();

/**
 * `http: { listen, allowRemote }`: the dashboard and /metrics (docs/dashboard.md), as `daemon
 * --http` gives them (the flag wins). Loopback only unless allowRemote: checked here, so a
 * config that would open the bench to the network is refused before anything starts.
 */
const httpSchema = z
  .object(
    {
      listen: z.string({ error: 'must be HOST:PORT as text, e.g. "127.0.0.1:8390"' }),
      allowRemote: z.boolean({ error: 'must be true or false' }).default(false),
    },
    { error: 'must be { listen: "HOST:PORT", allowRemote: false } (docs/dashboard.md)' },
  )
  .strict()
  .transform((http, ctx): { listen: ListenAddress; allowRemote: boolean } => {
    const checked = checkListen(http.listen, http.allowRemote);
    if ('problem' in checked) {
      ctx.addIssue({ code: 'custom', path: ['listen'], message: listenFieldProblem(http.listen, checked) });
      return z.NEVER;
    }
    return { listen: checked, allowRemote: http.allowRemote };
  });

export const daemonConfigSchema = z
  .object({
    /** The station name written in audit records. Default: the host name. */
    station: z
      .string({ error: 'must be a text of 1 to 64 characters' })
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      .optional(),
    /** USB vendor[:product] IDs whose ports may receive bytes. Default: DEFAULT_TERMINAL_IDS. */
    allow: z
      .array(allowEntry, { error: 'must be a list of USB IDs ("0b00", "0b00:0081", "defaults")' })
      .transform((lists) => dedupeIds(lists.flat()))
      .optional(),
    /** Ports to manage always: device paths (with a wildcard in the last part), tcp://, mock://. */
    ports: z.array(portEntry, { error: 'must be a list of port names' }).optional(),
    /** Directories watched for ports appearing and disappearing. [] turns hot-plug off. */
    watch: z.array(watchEntry, { error: 'must be a list of directories' }).optional(),
    /** Line rate of serial ports. */
    baud: z
      .number({ error: 'must be a positive whole number' })
      .int('must be a positive whole number')
      .positive('must be a positive whole number')
      .optional(),
    timeouts: timeoutsSchema.prefault({}),
    /** Ports named on demand held at most (the one idle longest goes first). Default (port manager): 64. */
    maxNamedPorts: z
      .number({ error: 'must be a whole number from 1 to 4096' })
      .int('must be a whole number from 1 to 4096')
      .min(1, 'must be a whole number from 1 to 4096')
      .max(4096, 'must be a whole number from 1 to 4096')
      .optional(),
    /**
     * The audit store (SQLite file; POSBRIDGE_AUDIT wins; default: the user's data directory), and
     * the witness file that gets each new head of the trail (POSBRIDGE_AUDIT_WITNESS wins).
     */
    audit: auditEntry.optional(),
    /** Publishing to an MQTT broker (src/daemon/mqtt/config.ts, docs/fleet.md). Default: none. */
    mqtt: mqttConfigSchema.optional(),
    /** The dashboard's listener. Default: none (off). */
    http: httpSchema.optional(),
  })
  .strict();

function dedupeIds(ids: UsbId[]): UsbId[] {
  const seen = new Map<string, UsbId>();
  for (const id of ids) {
    const key = `${id.vendorId}:${id.productId ?? '*'}`;
    if (!seen.has(key)) seen.set(key, id);
  }
  return [...seen.values()];
}

/** The daemon's configuration, every default applied. */
export interface DaemonConfig {
  station: string;
  allow: UsbId[];
  ports: string[];
  watch: string[];
  baud: number;
  timeouts: { requestMs: number; identifyMs: number; heartbeatMs: number; namedIdleMs?: number };
  /** Absent: the port manager's default (MANAGER_DEFAULTS). */
  maxNamedPorts?: number;
  /** `audit` or `audit.file`: the audit store. */
  audit?: string;
  /** `audit.witness`: where each new head of that store is appended. */
  auditWitness?: string;
  /** `mqtt`: the broker the daemon publishes to; absent: none. */
  mqtt?: MqttConfig;
  /** `http`: where the dashboard listens (the flag `--http` wins); absent: off. */
  http?: { listen: ListenAddress; allowRemote: boolean };
}

export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;

/** True when a device path has a wildcard (in its last part). */
export function isPortPattern(port: string): boolean {
  return !SCHEME_NAME.test(port) && WILDCARD.test(port);
}
