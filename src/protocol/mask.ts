/**
 * Secrets out of lines before they reach a trace, a log, a console screen or its history:
 * passwords (LOGIN, PASSWD, USER-ADD) and the settlement account (SET key=settle.account).
 * Replies never carry them in clear (the terminal masks the account itself).
 *
 * A well-formed request is masked exactly, from the command table. Anything else (a typo, a free
 * form a person types into the console, a line broken on the wire) is masked by shape: a line
 * that looks like a login or a password change (a verb close to LOGIN or PASSWD, a secret key
 * from the one list of secret-keys.ts, `password PW`, `admin:PW`) keeps only its verb, its ID,
 * the names of its keys, account names (`admin`, `01`) and setting names; every other word and
 * value becomes `***`, because any of them may be the password typed in the wrong place.
 */
import { COMMANDS, type CommandSpec, lookupVerb } from './commands.js';
import { appendCrc, encodeLine, type ParsedLine, parseLine, splitCrc } from './line.js';
import { isSecretKey, isSecretKeyName, isSecretRequestKey, normaliseKeyName } from './secret-keys.js';
import { isSettingKey, SETTINGS, type SettingSpec } from './settings.js';
import { asciiOf, encodeValue } from './value-codec.js';

export const MASK = '***';

const UTF8 = new TextDecoder();

const REPLY_WORDS = new Set(['DATA', 'OK', 'ERR', 'EVT']);
/** `admin` or an operator ID: never a password (a password has at least 6 characters). */
const ACCOUNT_NAME = /^(admin|[0-9]{1,2})$/i;
/** Every argument name of TSP/1: a key of a mistyped line that is one of these is shown. */
const KNOWN_KEYS = new Set(
  Object.values(COMMANDS as Record<string, CommandSpec>).flatMap((s) => Object.keys(s.args)),
);

export interface MaskedLine {
  text: string;
  /** The secret values that were masked, as they were written and decoded (the console hides their echoes). */
  secrets: string[];
}

/** The line with every secret value replaced by `***` (the CRC is recomputed so the trace reads true). */
export function maskLine(text: string): string {
  return maskLineDetailed(text).text;
}

export function maskLineDetailed(text: string): MaskedLine {
  const parsed = parseLine(text);
  if (parsed.ok) {
    const exact = maskParsed(text, parsed.line);
    if (exact !== undefined) return exact;
  }
  return maskByShape(text);
}

/**
 * A reply or event, or a request that fits its command (one verb, only the arguments it takes):
 * masked from the tables. Anything else is undefined (masked by shape).
 */
function maskParsed(text: string, line: ParsedLine): MaskedLine | undefined {
  const word = line.words[0]!;
  const isReply = REPLY_WORDS.has(word.toUpperCase());
  const verb = lookupVerb(word);
  const spec: CommandSpec | undefined = verb === undefined ? undefined : COMMANDS[verb];
  if (!isReply) {
    if (spec === undefined || line.words.length !== 1) return undefined;
    if (!line.fields.every((f) => Object.hasOwn(spec.args, f.key))) return undefined;
  }
  const takesSecret = spec !== undefined && Object.values(spec.args).some((arg) => arg.secret);
  const secretSetting =
    !isReply && line.fields.some((f) => f.key === 'key' && isSecretSetting(asciiOf(f.value)));
  const secrets: string[] = [];
  const fields = line.fields.map(({ key, value }) => {
    const plain = String.fromCharCode(...value);
    const secret = isReply
      ? isSecretKey(key)
      : spec!.args[key]!.secret === true ||
        (key === 'value' && secretSetting) ||
        // `LOGIN user=admin:PW`: an account field that is not an account name may be the password.
        (takesSecret && (key === 'user' || key === 'id') && !ACCOUNT_NAME.test(plain));
    if (secret) secrets.push(plain, UTF8.decode(value), encodeValue(value).replace(/^"|"$/g, ''));
    return [key, secret ? MASK : value] as const;
  });
  if (secrets.length === 0) return { text, secrets };
  const masked = encodeLine({ id: line.id, words: line.words, fields });
  return { text: splitCrc(text) ? appendCrc(masked) : masked, secrets };
}

interface Token {
  start: number;
  end: number;
  text: string;
}

/** Space-separated tokens; a double quote runs to the next unescaped one (or the end of the line). */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    const start = i;
    let quoted = false;
    while (i < text.length && (quoted || text[i] !== ' ')) {
      if (text[i] === '"') quoted = !quoted;
      else if (text[i] === '\\' && quoted) i++;
      i++;
    }
    i = Math.min(i, text.length);
    out.push({ start, end: i, text: text.slice(start, i) });
  }
  return out;
}

type Part =
  | { kind: 'id' | 'crc'; token: Token }
  | { kind: 'field'; token: Token; key: string; value: string }
  | { kind: 'word'; token: Token };

function classify(text: string): Part[] {
  const list = tokens(text);
  return list.map((token, index): Part => {
    if (index === 0 && /^@[0-9]+$/.test(token.text)) return { kind: 'id', token };
    if (index === list.length - 1 && index > 0 && /^\*[0-9A-Fa-f]{4}$/.test(token.text))
      return { kind: 'crc', token };
    const eq = token.text.indexOf('=');
    const key = token.text.slice(0, Math.max(0, eq));
    // Only a name is a key: `admin:PW=x` is a word (a password with `=` in it).
    if (eq > 0 && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(key))
      return { kind: 'field', token, key, value: token.text.slice(eq + 1) };
    return { kind: 'word', token };
  });
}

/** Words a person types to log in or change a password, and their common typos. */
const CREDENTIAL_VERBS = [
  'login',
  'logon',
  'signin',
  'passwd',
  'password',
  'useradd',
  'chpasswd',
  'setpassword',
];
const SHORT_CREDENTIAL_VERBS = new Set(['pass', 'pw', 'pwd', 'su', 'auth', 'user', 'adduser']);

function looksLikeCredentialVerb(word: string): boolean {
  const w = normaliseKeyName(word);
  if (SHORT_CREDENTIAL_VERBS.has(w) || isSecretRequestKey(w)) return true;
  // A real command other than these is what it says (LOGOUT, USER-SET are not a LOGIN typo).
  const verb = lookupVerb(word);
  if (verb !== undefined) return verb === 'LOGIN' || verb === 'PASSWD' || verb === 'USER-ADD';
  return CREDENTIAL_VERBS.some((c) => editDistance(w, c) <= (c.length <= 5 ? 1 : 2));
}

/** Optimal string alignment distance (a transposition counts one: LGOIN is one from LOGIN). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function looksLikeCredentials(parts: Part[]): boolean {
  const verb = parts.find((p) => p.kind === 'word');
  if (verb && looksLikeCredentialVerb(verb.token.text)) return true;
  return parts.some((p) => {
    if (p.kind === 'field') return isSecretRequestKey(p.key) || /settle\.account/i.test(p.value);
    // `password PW`, `admin:PW`
    if (p.kind === 'word') return isSecretRequestKey(p.token.text) || p.token.text.includes(':');
    return false;
  });
}

const NESTED_FIELD = /(^|[\s"])([A-Za-z][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"?|[^\s"]*)/g;

/** What stays of a word in a line that looks like credentials. */
function keptWord(word: string, isVerb: boolean, followed: boolean): string {
  const colon = word.indexOf(':');
  if (colon >= 0 && !word.startsWith('"')) {
    const left = word.slice(0, colon);
    return ACCOUNT_NAME.test(left) || isSecretKeyName(left) ? `${left}:${MASK}` : MASK;
  }
  if ((isVerb && /^[A-Za-z][A-Za-z0-9-]*$/.test(word)) || ACCOUNT_NAME.test(word)) return word;
  // A label (`password PW`) is shown when a value follows it; alone, it may be the password.
  if (followed && isSecretKeyName(word)) return word;
  return MASK;
}

function keptField(key: string, value: string): string {
  if (!KNOWN_KEYS.has(key) && !isSecretRequestKey(key) && key !== 'value') return MASK;
  const shown =
    (!isSecretRequestKey(key) && ACCOUNT_NAME.test(value)) || (key === 'key' && isSettingKey(value));
  return `${key}=${shown ? value : MASK}`;
}

/**
 * A line that does not fit its command, masked by shape. Its CRC, if any, was computed over the
 * secret: it would leak 16 bits of it, so it becomes `*????` when anything was masked.
 */
function maskByShape(text: string): MaskedLine {
  const parts = classify(text);
  const verbIndex = parts.findIndex((p) => p.kind === 'word');
  // A damaged reply (`OK pass=11 ... *BAD0`) is the terminal's: `pass` is a count there.
  const reply = verbIndex >= 0 && REPLY_WORDS.has(parts[verbIndex]!.token.text.toUpperCase());
  const credentials = !reply && looksLikeCredentials(parts);
  const secretKey = reply ? isSecretKey : isSecretRequestKey;
  const secrets: string[] = [];
  let out = '';
  let at = 0;
  parts.forEach((part, index) => {
    const { token } = part;
    let kept = token.text;
    if (part.kind === 'field') {
      if (credentials) kept = keptField(part.key, part.value);
      else if (part.key === 'value' || secretKey(part.key)) kept = `${part.key}=${MASK}`;
    } else if (part.kind === 'word' && credentials) {
      const next = parts[index + 1];
      kept = keptWord(token.text, index === verbIndex, next !== undefined && next.kind === 'word');
    }
    // A token already masked (`***`, recalled from the history) still marks a secret's place.
    if (kept !== token.text || (credentials && kept.endsWith(MASK) && part.kind !== 'crc'))
      secrets.push(...secretParts(token.text, kept));
    out += text.slice(at, token.start) + kept;
    at = token.end;
  });
  out += text.slice(at);
  // A key=value inside a token that is not one (`"SET key=settle.account value=...` behind a
  // stray quote) is still a secret.
  out = out.replace(NESTED_FIELD, (match, lead: string, key: string, value: string) => {
    if (value === MASK || !(key === 'value' || secretKey(key))) return match;
    secrets.push(value, value.replace(/^"|"$/g, ''));
    return `${lead}${key}=${MASK}`;
  });
  if (secrets.length === 0) return { text, secrets };
  const crc = parts.find((p) => p.kind === 'crc');
  if (crc)
    out = `${out.slice(0, out.length - (text.length - crc.token.start))}*????${text.slice(crc.token.end)}`;
  return { text: out, secrets };
}

/** The masked part of a token (what follows the kept prefix), with and without its quotes. */
function secretParts(original: string, kept: string): string[] {
  const prefix = kept.endsWith(MASK) ? kept.slice(0, -MASK.length) : '';
  const hidden = original.startsWith(prefix) ? original.slice(prefix.length) : original;
  const unquoted = hidden.replace(/^"|"$/g, '');
  return unquoted === hidden ? [hidden] : [hidden, unquoted];
}

function isSecretSetting(key: string | undefined): boolean {
  if (key === undefined || !isSettingKey(key)) return false;
  const spec: SettingSpec = SETTINGS[key];
  return spec.secret === true;
}
