/**
 * Canonical JSON, the form that gets hashed: object keys sorted by UTF-16 code unit (the default
 * `Array#sort`), no white space, strings and numbers written by `JSON.stringify`, keys whose value
 * is `undefined` left out (as JSON does). Only plain data goes in: a class instance, a function, a
 * BigInt, a non-finite number or a cycle is refused, so what is hashed is exactly what is stored
 * and read back.
 */
import { createHash } from 'node:crypto';
import { AuditError } from './errors.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue | undefined };
export type JsonObject = { [key: string]: JsonValue | undefined };

const MAX_DEPTH = 32;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encode(value: unknown, path: string, depth: number): string {
  if (depth > MAX_DEPTH) {
    throw new AuditError('AUDIT_INVALID', `audit record too deep at ${path} (more than ${MAX_DEPTH} levels)`);
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new AuditError('AUDIT_INVALID', `audit record field ${path} is not a finite number`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => encode(item === undefined ? null : item, `${path}[${i}]`, depth + 1)).join(',')}]`;
      }
      if (!isPlainObject(value)) {
        const kind = (value as object).constructor?.name ?? 'object';
        throw new AuditError('AUDIT_INVALID', `audit record field ${path} is a ${kind}, not plain JSON data`);
      }
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const item = record[key];
        if (item === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${encode(item, `${path}.${key}`, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new AuditError('AUDIT_INVALID', `audit record field ${path} is a ${typeof value}, not JSON data`);
  }
}

/** The canonical JSON text of `value`; throws AUDIT_INVALID for anything that is not plain data. */
export function canonicalJson(value: unknown, root = 'record'): string {
  return encode(value, root, 0);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
