/**
 * The operation table: every operation the engine offers, each defined once: its contract
 * (NAME.ts, zod schemas) and its run (NAME-run.ts). The Engine interface, the audited wrapper, the
 * API routes, their client and the OpenAPI document are derived from it: a new operation is a new
 * pair of files here, an entry below and one in runs.ts.
 *
 * The engine itself runs operations through runs.ts, which imports no zod and loads one
 * operation's run when it is first called: `posbridge info` loads neither the schemas (zod) nor
 * the provisioning workflow. This table is for what checks requests and results (the daemon).
 */
import type { z } from 'zod';
import { diag } from './diag.js';
import { diagRun } from './diag-run.js';
import { info } from './info.js';
import { infoRun } from './info-run.js';
import type { Handlers, OperationSpec } from './operation.js';
import { operator } from './operator.js';
import { operatorRun } from './operator-run.js';
import { passwd } from './passwd.js';
import { passwdRun } from './passwd-run.js';
import { provision } from './provision.js';
import { provisionRun } from './provision-run.js';
import type { Holds, Same } from './results.js';
import { OPERATION_NAMES } from './runs.js';

export const OPERATIONS = {
  info: { ...info, ...infoRun },
  provision: { ...provision, ...provisionRun },
  diag: { ...diag, ...diagRun },
  passwd: { ...passwd, ...passwdRun },
  operator: { ...operator, ...operatorRun },
} as const;

export type Operations = typeof OPERATIONS;
export type OperationName = keyof Operations;
export { OPERATION_NAMES };
/** Compile-time: runs.ts names every operation of the table, and no other. */
export type OperationNamesAgree = Holds<[Same<(typeof OPERATION_NAMES)[number], OperationName>]>;

/** What a caller gives: the request schema's output (secrets as Secret). */
export type RequestOf<N extends OperationName> = z.output<Operations[N]['request']>;
export type ResultOf<N extends OperationName> = z.output<Operations[N]['result']>;
export type EventsOf<N extends OperationName> = Operations[N]['events'];
export type EventName<N extends OperationName> = keyof EventsOf<N> & string;
export type HandlersOf<N extends OperationName> = Handlers<EventsOf<N>>;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

export type {
  EventSpec,
  Handler,
  Handlers,
  OperationContract,
  OperationRun,
  OperationSpec,
  RunContext,
} from './operation.js';
export type { OperatorAction } from './operator.js';
export { type OperatorPassword, readOperatorPasswords } from './provision.js';
export { type AnyRun, runOf } from './runs.js';

/** An operation whatever its name: for the code written once for all of them. */
export type AnyOperation = OperationSpec<OperationName>;

/** One cast: indexing the table with a type parameter loses the link between a name and its types. */
export function operationOf(name: OperationName): AnyOperation {
  return OPERATIONS[name] as unknown as AnyOperation;
}
