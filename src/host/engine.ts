/**
 * The engine: every operation the command line offers, as one interface derived from the
 * operation table (operations/index.ts). LocalEngine runs them in this process (the CLI opens
 * the port itself); the daemon serves the same operations over its local API, RemoteEngine
 * calls them there, AuditedEngine records them. One code path for the logic, whichever
 * transport carries the request.
 *
 * Every operation is `engine.<name>(request, { on, link })`: `on` holds handlers of its events
 * (an acknowledged one is awaited before the run goes on), `link` what it asks of a link it does
 * not open itself (the daemon's), see link-options.ts.
 */
import { PosbridgeError } from './errors.js';
import { asksAnything, type LinkOptions } from './link-options.js';
import type { HandlersOf, OperationName, RequestOf, ResultOf } from './operations/index.js';
// Not the table (index.ts: every operation's zod schemas): each run loads when first called.
import { OPERATION_NAMES, runOf } from './operations/runs.js';
import type { TerminalOps } from './workflow/terminal-ops.js';

export type { OperatorAction } from './operations/index.js';

/** An open connection to one terminal. */
export interface TerminalConnection extends TerminalOps {
  close(): Promise<void>;
  /**
   * Applies one operation's link options (trace, reply timeout, expected line rate) until the
   * returned function is called; throws (USAGE) what it cannot honour. A connection without it
   * (a test stand-in) takes no options.
   */
  useLink?(link: LinkOptions): () => void;
}

/** Opens a port by the name the user typed (device path, tcp://, mock://). */
export type Connector = (port: string) => Promise<TerminalConnection>;

export interface CallOptions<N extends OperationName> {
  /** Handlers of the operation's events, called as they happen. */
  on?: HandlersOf<N> | undefined;
  link?: LinkOptions | undefined;
}

export type Engine = {
  [N in OperationName]: (request: RequestOf<N>, options?: CallOptions<N>) => Promise<ResultOf<N>>;
};

export type InfoReport = ResultOf<'info'>;
export type DiagReport = ResultOf<'diag'>;
export type PasswdReport = ResultOf<'passwd'>;
export type OperatorReport = ResultOf<'operator'>;

type AnyMethod = (request: unknown, options?: CallOptions<OperationName>) => Promise<unknown>;

/** Calls operation `name` of any engine: for code written once for every operation. */
export function callOperation<N extends OperationName>(
  engine: Engine,
  name: N,
  request: RequestOf<N>,
  options?: CallOptions<N>,
): Promise<ResultOf<N>> {
  return (engine[name] as AnyMethod).call(engine, request, options as CallOptions<OperationName>) as Promise<
    ResultOf<N>
  >;
}

/** An Engine written once for every operation: each of its methods calls `call`. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the methods are installed below, one per operation of the table.
export abstract class OperationEngine {
  abstract call<N extends OperationName>(
    name: N,
    request: RequestOf<N>,
    options?: CallOptions<N>,
  ): Promise<ResultOf<N>>;
}

for (const name of OPERATION_NAMES) {
  Object.defineProperty(OperationEngine.prototype, name, {
    value(this: OperationEngine, request: never, options?: CallOptions<typeof name>) {
      return this.call(name, request, options);
    },
    writable: true,
    configurable: true,
  });
}

export interface OperationEngine extends Engine {}

export interface LocalEngineDeps {
  connect: Connector;
  now(): Date;
  randomBytes(n: number): Uint8Array;
  /** Link options of every operation that brings none (a station run's --trace and --timeout). */
  link?: LinkOptions;
}

export class LocalEngine extends OperationEngine {
  constructor(private readonly deps: LocalEngineDeps) {
    super();
  }

  async call<N extends OperationName>(
    name: N,
    request: RequestOf<N>,
    options: CallOptions<N> = {},
  ): Promise<ResultOf<N>> {
    const operation = await runOf(name);
    return this.withTerminal(operation.port(request), options.link, (terminal) =>
      operation.run(request, {
        terminal,
        now: this.deps.now,
        randomBytes: this.deps.randomBytes,
        on: options.on ?? {},
      }),
    ) as Promise<ResultOf<N>>;
  }

  private async withTerminal<T>(
    port: string,
    link: LinkOptions | undefined,
    body: (ops: TerminalConnection) => Promise<T>,
  ): Promise<T> {
    const connection = await this.deps.connect(port);
    try {
      const wanted = link ?? this.deps.link;
      // Before any byte: what cannot be honoured is refused, never dropped.
      if (asksAnything(wanted) && !connection.useLink)
        throw new PosbridgeError(
          'UNSUPPORTED',
          `${port}: this connection takes no --trace, --timeout or --baud`,
          {
            hint: 'run the command without them; nothing was sent',
          },
        );
      const undo = asksAnything(wanted) ? connection.useLink!(wanted) : undefined;
      try {
        return await body(connection);
      } finally {
        undo?.();
      }
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}
