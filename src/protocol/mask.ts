/**
 * Secrets out of lines before they reach a trace or a log: passwords (LOGIN, PASSWD, USER-ADD)
 * and the settlement account (SET key=settle.account). Replies never carry them in clear (the
 * terminal masks the account itself).
 */
import { COMMANDS, type CommandSpec, lookupVerb } from './commands.js';
import { appendCrc, encodeLine, parseLine, splitCrc } from './line.js';
import { isSettingKey, SETTINGS, type SettingSpec } from './settings.js';
import { asciiOf } from './value-codec.js';

export const MASK = '***';

/** Every key that can hold a secret in some request (used when a line cannot be parsed). */
const SECRET_KEYS = new Set(
  Object.values(COMMANDS as Record<string, CommandSpec>).flatMap((spec) =>
    Object.entries(spec.args)
      .filter(([, arg]) => arg.secret)
      .map(([key]) => key),
  ),
);
const REPLY_WORDS = new Set(['DATA', 'OK', 'ERR', 'EVT']);
const LOOSE_SECRET = new RegExp(
  `(^|\\s)(${[...SECRET_KEYS, 'value'].join('|')})=("(?:[^"\\\\]|\\\\.)*"?|\\S*)`,
  'g',
);

/**
 * A line that does not parse (a bad CRC, broken quoting) is masked by pattern. Its CRC, if any,
 * was computed over the secret: it would leak 16 bits of it, so it is replaced by `*????` too.
 */
function maskUnreadable(text: string): string {
  let masked = false;
  const out = text.replace(LOOSE_SECRET, (_m, lead: string, key: string) => {
    masked = true;
    return `${lead}${key}=${MASK}`;
  });
  if (!masked) return text;
  const crc = splitCrc(out);
  return crc ? `${crc.body} *????` : out;
}

/** The line with every secret value replaced by `***` (the CRC is recomputed so the trace reads true). */
export function maskLine(text: string): string {
  const parsed = parseLine(text);
  if (!parsed.ok) return maskUnreadable(text);
  const { line } = parsed;
  const verb = lookupVerb(line.words[0]!);
  const spec: CommandSpec | undefined = verb === undefined ? undefined : COMMANDS[verb];
  const secretSetting = line.fields.some((f) => f.key === 'key' && isSecretSetting(asciiOf(f.value)));
  // Replies show the account masked already (`****` + last four); a request line, even a
  // mistyped one (`SETT`, `GET ... value=`), may carry it in clear.
  const isReply = REPLY_WORDS.has(line.words[0]!.toUpperCase());
  let changed = false;
  const fields = line.fields.map(({ key, value }) => {
    const arg = spec !== undefined && Object.hasOwn(spec.args, key) ? spec.args[key] : undefined;
    const declared = arg !== undefined;
    const secret =
      arg?.secret === true ||
      // A secret-carrying key where this verb takes no such argument (unknown verb, or
      // `USER-SET password=`): a 400 on the wire, but still a secret in the trace.
      (!declared && SECRET_KEYS.has(key)) ||
      (key === 'value' && secretSetting && !isReply);
    if (secret) changed = true;
    return [key, secret ? MASK : value] as const;
  });
  if (!changed) return text;
  const masked = encodeLine({ id: line.id, words: line.words, fields });
  return splitCrc(text) ? appendCrc(masked) : masked;
}

function isSecretSetting(key: string | undefined): boolean {
  if (key === undefined || !isSettingKey(key)) return false;
  const spec: SettingSpec = SETTINGS[key];
  return spec.secret === true;
}
