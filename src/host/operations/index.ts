/**
 * The operation table: every operation the engine offers, each defined once (operation.ts). The
 * Engine interface, the audited wrapper, the API routes, their client and the OpenAPI document
 * are derived from it: a new operation is a new file here and an entry below.
 */
import type { z } from 'zod';
import { diag } from './diag.js';
import { info } from './info.js';
import type { Handlers, OperationSpec } from './operation.js';
import { operator } from './operator.js';
import { passwd } from './passwd.js';
import { provision } from './provision.js';

export const OPERATIONS = { info, provision, diag, passwd, operator } as const;

export type Operations = typeof OPERATIONS;
export type OperationName = keyof Operations;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** What a caller gives: the request schema's output (secrets as Secret). */
export type RequestOf<N extends OperationName> = z.output<Operations[N]['request']>;
export type ResultOf<N extends OperationName> = z.output<Operations[N]['result']>;
export type EventsOf<N extends OperationName> = Operations[N]['events'];
export type EventName<N extends OperationName> = keyof EventsOf<N> & string;
export type HandlersOf<N extends OperationName> = Handlers<EventsOf<N>>;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

export type { EventSpec, Handler, Handlers, OperationSpec, RunContext } from './operation.js';
export type { OperatorAction } from './operator.js';
export { type OperatorPassword, readOperatorPasswords } from './provision.js';

/** An operation whatever its name: for the code written once for all of them. */
export type AnyOperation = OperationSpec<OperationName>;

/** One cast: indexing the table with a type parameter loses the link between a name and its types. */
export function operationOf(name: OperationName): AnyOperation {
  return OPERATIONS[name] as unknown as AnyOperation;
}
