/** Value rules of TSP/1 arguments, shared by the terminal (which enforces) and the daemon (which checks first). */

export const MERCHANT_NUMBER = /^[0-9]{15}$/;
export const TERMINAL_NUMBER = /^[0-9]{8}$/;
export const OPERATOR_ID = /^(0[1-9]|[1-9][0-9])$/;
const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4_SHAPE = /^[0-9]+(\.[0-9]+){3}$/;
/** An IPv4 part: decimal without leading zeros (docs/protocol.md D48), at most 255. */
const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;

export const PERMISSIONS = ['sale', 'refund', 'query', 'report', 'settings'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Text of 1..max UTF-8 bytes (names, SSIDs). */
export function isTextWithin(text: string, min: number, max: number): boolean {
  const length = utf8Length(text);
  return length >= min && length <= max;
}

/** `YYYY-MM-DDTHH:MM:SSZ` naming a real instant; returns epoch milliseconds. */
export function parseUtc(text: string): number | undefined {
  const m = UTC_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Not Date.UTC: it maps years 0-99 to 1900-1999.
  const back = new Date(0);
  back.setUTCFullYear(year, month - 1, day);
  back.setUTCHours(hour, minute, second, 0);
  if (
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  return back.getTime();
}

/**
 * The times TSP/1 hosts send and a terminal may insist on (docs/protocol.md D48): a terminal may
 * refuse TIME outside 2000-01-01T00:00:00Z to 2099-12-31T23:59:59Z, and hosts never send one.
 */
export const UTC_RANGE = { min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31, 23, 59, 59) } as const;

export function isUtcInRange(ms: number): boolean {
  return ms >= UTC_RANGE.min && ms <= UTC_RANGE.max;
}

export function formatUtc(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** A host name or dotted IPv4 address of at most 253 characters. */
export function isHostAddress(text: string): boolean {
  if (text.length < 1 || text.length > 253) return false;
  if (IPV4_SHAPE.test(text))
    return text.split('.').every((octet) => IPV4_OCTET.test(octet) && Number(octet) <= 255);
  // A name's last label is never all digits (RFC 1123 2.1): `10.0.0.1.5` or `10.0.1` is a mistyped
  // address, not a host name.
  const labels = text.split('.');
  return labels.every((label) => HOST_LABEL.test(label)) && !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** An integer written in decimal without sign or leading zeros, within [min, max]. */
export function parseIntegerIn(text: string, min: number, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** A permission list: a non-empty set of known permissions, returned in canonical order. */
export function parsePermissions(text: string): Permission[] | undefined {
  const given = text.split(',');
  if (given.some((p) => !(PERMISSIONS as readonly string[]).includes(p))) return undefined;
  if (new Set(given).size !== given.length) return undefined;
  return PERMISSIONS.filter((p) => given.includes(p));
}

/** The settlement account as replies show it: `****` and its last four characters. */
export function maskAccount(account: string): string {
  return account === '' ? '' : `****${account.slice(-4)}`;
}
