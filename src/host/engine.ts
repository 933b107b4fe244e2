/**
 * The engine: every operation the command line offers, as one interface. LocalEngine runs them
 * in this process (the CLI opens the port itself); the daemon serves the same operations over its
 * local API. One code path for the logic, whichever transport carries the request.
 */
import { PosbridgeError } from './errors.js';
import { asksAnything, type LinkOptions } from './link-options.js';
import type { Secret } from './secret.js';
import { chooseAdminCredential, loginAdmin, loginForAdminCommand } from './workflow/admin-login.js';
import { generatePassword } from './workflow/generate-password.js';
import type { OperatorSpec } from './workflow/profile.js';
import { type ProvisionDeps, type ProvisionRequest, provision } from './workflow/provision.js';
import type { ProvisionReport, StepListener, TerminalIdentity } from './workflow/report.js';
import type {
  DiagCheckResult,
  DiagOutcome,
  HelloInfo,
  OperatorInfo,
  StatusInfo,
  TerminalOps,
} from './workflow/terminal-ops.js';

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

export interface InfoReport {
  kind: 'info';
  port: string;
  hello: HelloInfo;
  status: StatusInfo;
}

export interface DiagReport {
  kind: 'diag';
  port: string;
  sn: string;
  terminal: TerminalIdentity;
  diagnostics: DiagOutcome;
}

export type OperatorAction =
  | { action: 'list' }
  | { action: 'add'; id: string; name: string; perms: string[]; password: Secret }
  | { action: 'set'; id: string; name?: string; perms?: string[] }
  | { action: 'del'; id: string };

export interface OperatorReport {
  kind: 'operator';
  port: string;
  sn: string;
  terminal: TerminalIdentity;
  action: OperatorAction['action'];
  id?: string;
  operators: OperatorInfo[];
}

export interface PasswdReport {
  kind: 'passwd';
  port: string;
  sn: string;
  terminal: TerminalIdentity;
  user: string;
}

export interface ProvisionCall {
  request: ProvisionRequest;
  onStep?: StepListener;
  /** HELLO named the terminal (before any other step). */
  onIdentified?: ProvisionDeps['onIdentified'];
  /** Where generated operator passwords are kept (owner-only file), before they are sent. */
  recordGenerated?: ProvisionDeps['recordGenerated'];
  /** Resolves an operator password source that is not `generate` (env or file). */
  readOperatorSecret?: (id: string, source: Exclude<OperatorSpec['password'], 'generate'>) => Promise<Secret>;
  link?: LinkOptions;
}

/**
 * Every operation may carry `link`: what it asks of a link it does not open itself (the
 * daemon's), see link-options.ts.
 */
export interface Engine {
  info(port: string, link?: LinkOptions): Promise<InfoReport>;
  provision(call: ProvisionCall): Promise<ProvisionReport>;
  diag(
    port: string,
    options: {
      adminPassword?: Secret;
      checks?: string[];
      onCheck?: (r: DiagCheckResult) => void;
      link?: LinkOptions;
    },
  ): Promise<DiagReport>;
  passwd(
    port: string,
    options: { user?: string; adminPassword: Secret; newPassword: Secret; link?: LinkOptions },
  ): Promise<PasswdReport>;
  operator(
    port: string,
    options: { adminPassword?: Secret; operation: OperatorAction; link?: LinkOptions },
  ): Promise<OperatorReport>;
}

export interface LocalEngineDeps {
  connect: Connector;
  now(): Date;
  randomBytes(n: number): Uint8Array;
  /** Link options of every operation that brings none (a station run's --trace and --timeout). */
  link?: LinkOptions;
}

export class LocalEngine implements Engine {
  constructor(private readonly deps: LocalEngineDeps) {}

  async info(port: string, link?: LinkOptions): Promise<InfoReport> {
    return this.withTerminal(port, link, async (ops) => {
      const hello = await ops.hello();
      const status = await ops.status();
      return { kind: 'info', port, hello, status };
    });
  }

  async provision(call: ProvisionCall): Promise<ProvisionReport> {
    const { request } = call;
    return this.withTerminal(request.port, call.link, (ops) =>
      provision(ops, request, {
        now: this.deps.now,
        onStep: call.onStep,
        onIdentified: call.onIdentified,
        recordGenerated: call.recordGenerated,
        operatorPassword: async ({ id, source }) => {
          if (source === 'generate') return generatePassword(this.deps.randomBytes);
          if (!call.readOperatorSecret)
            throw new PosbridgeError('USAGE', `no way to read the password of operator ${id}`);
          return call.readOperatorSecret(id, source);
        },
      }),
    );
  }

  async diag(port: string, options: Parameters<Engine['diag']>[1]): Promise<DiagReport> {
    return this.withTerminal(port, options.link, async (ops) => {
      const { sn, model, fw } = await ops.hello();
      const terminal = { model, sn, fw };
      await loginForAdminCommand(ops, options.adminPassword);
      try {
        const diagnostics = await ops.diag(options.checks, options.onCheck);
        return { kind: 'diag', port, sn, terminal, diagnostics };
      } finally {
        await ops.logout().catch(() => undefined);
      }
    });
  }

  async passwd(port: string, options: Parameters<Engine['passwd']>[1]): Promise<PasswdReport> {
    return this.withTerminal(port, options.link, async (ops) => {
      const { sn, model, fw } = await ops.hello();
      const terminal = { model, sn, fw };
      const status = await ops.status();
      if (status.factoryPw.includes('admin')) {
        throw new PosbridgeError('NOT_PROVISIONED', 'the terminal still has its factory admin password', {
          hint: 'run posbridge provision, which replaces it safely',
        });
      }
      const credential = chooseAdminCredential(status, options.adminPassword);
      await loginAdmin(ops, credential);
      const user = options.user ?? 'admin';
      try {
        if (user === 'admin') await ops.passwd({ old: options.adminPassword, new: options.newPassword });
        else await ops.passwd({ user, new: options.newPassword });
      } finally {
        await ops.logout().catch(() => undefined);
      }
      return { kind: 'passwd', port, sn, terminal, user };
    });
  }

  async operator(port: string, options: Parameters<Engine['operator']>[1]): Promise<OperatorReport> {
    return this.withTerminal(port, options.link, async (ops) => {
      const { sn, model, fw } = await ops.hello();
      const terminal = { model, sn, fw };
      await loginForAdminCommand(ops, options.adminPassword);
      const op = options.operation;
      try {
        if (op.action === 'add')
          await ops.userAdd({ id: op.id, name: op.name, perms: op.perms, password: op.password });
        else if (op.action === 'set') {
          await ops.userSet({
            id: op.id,
            ...(op.name !== undefined && { name: op.name }),
            ...(op.perms && { perms: op.perms }),
          });
        } else if (op.action === 'del') await ops.userDel(op.id);
        const operators = await ops.userList();
        return {
          kind: 'operator',
          port,
          terminal,
          sn,
          action: op.action,
          ...(op.action !== 'list' && { id: op.id }),
          operators,
        };
      } finally {
        await ops.logout().catch(() => undefined);
      }
    });
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
