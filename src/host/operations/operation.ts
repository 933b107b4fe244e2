/**
 * What an operation is, once: its name, the request it takes and the result it gives (zod
 * schemas), the events it sends while it runs (its contract, NAME.ts), and how it runs on an open
 * terminal (NAME-run.ts). Everything
 * else is derived from the table of them (index.ts): the Engine interface (engine.ts), the audit
 * trail around it (src/audit/audited-engine.ts), the daemon's API routes, their client and the
 * OpenAPI document (src/daemon/api/).
 */
import type { z } from 'zod';
import type { TerminalOps } from '../workflow/terminal-ops.js';

export interface EventSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** What the event says, for the API's documentation. */
  summary: string;
  /**
   * Present when the caller must acknowledge the event before the run goes on (a generated
   * password it keeps before the terminal gets it): the handler's promise, or over the API the
   * caller's acknowledgement.
   */
  acknowledged?: {
    /**
     * The API request field (default true) by which a caller declines these events: they are
     * then dropped, as in-process without a handler.
     */
    optIn: string;
    /** What is handed over, in messages: `the password of operator 02`. */
    what(data: z.output<S>): string;
  };
}

export type EventSpecs = Record<string, EventSpec>;

/** An acknowledged event's handler resolves once the caller has kept what it was given. */
export type Handler<E extends EventSpec> = (
  data: z.output<E['schema']>,
) => E extends { acknowledged: object } ? Promise<void> : void;

export type Handlers<Ev extends EventSpecs> = { [K in keyof Ev]?: Handler<Ev[K]> };

/** What a run gets besides its request: the terminal, the clock, randomness and the handlers. */
export interface RunContext<Ev extends EventSpecs> {
  terminal: TerminalOps;
  now(): Date;
  randomBytes(n: number): Uint8Array;
  on: Handlers<Ev>;
}

/**
 * What an operation is to the outside (its contract): the request it takes, the result it gives
 * and its events, as zod schemas. The daemon's API, its client and the OpenAPI document need it.
 */
export interface OperationContract<
  Name extends string = string,
  Req extends z.ZodObject = z.ZodObject,
  Res extends z.ZodType = z.ZodType,
  Ev extends EventSpecs = EventSpecs,
> {
  name: Name;
  /** One line, for the API's documentation. */
  summary: string;
  request: Req;
  result: Res;
  events: Ev;
}

/**
 * How an operation runs on an open terminal: its own module (NAME-run.ts), which imports no zod,
 * so a command that runs one (info) loads neither the schemas nor the other operations' workflows.
 */
export interface OperationRun<
  Req extends z.ZodObject = z.ZodObject,
  Res extends z.ZodType = z.ZodType,
  Ev extends EventSpecs = EventSpecs,
> {
  /** The port the request is for. */
  port(request: z.output<Req>): string;
  /**
   * Why this request may hand the caller acknowledged events, which need an event stream; a
   * request without one is then refused before a byte is sent. Undefined: it will not.
   */
  needsStream?(request: z.output<Req>): string | undefined;
  run(request: z.output<Req>, context: RunContext<Ev>): Promise<z.output<Res>>;
}

/** The run of a contract, typed by its schemas (`const infoRun: RunOf<typeof info> = ...`). */
export type RunOf<C extends OperationContract> = OperationRun<C['request'], C['result'], C['events']>;

/** The whole operation: its contract and its run (the table in index.ts). */
export interface OperationSpec<
  Name extends string = string,
  Req extends z.ZodObject = z.ZodObject,
  Res extends z.ZodType = z.ZodType,
  Ev extends EventSpecs = EventSpecs,
> extends OperationContract<Name, Req, Res, Ev>,
    OperationRun<Req, Res, Ev> {}

export function defineOperation<
  const Name extends string,
  Req extends z.ZodObject,
  Res extends z.ZodType,
  Ev extends EventSpecs = Record<never, EventSpec>,
>(contract: OperationContract<Name, Req, Res, Ev>): OperationContract<Name, Req, Res, Ev> {
  return contract;
}
