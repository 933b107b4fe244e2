/**
 * Running one command on the mock terminal, once framing, replay and busy are decided
 * (terminal.ts): the state-dependent checks (a handler's precheck, else 401/403/428 from
 * authorize), the handler, its deferred completion (DIAG), the final line, storing the reply for
 * replay, and the effects that follow the reply (events, reboot). A handler that throws answers
 * `ERR code=500 reason=internal` and its effects are dropped.
 */
import { commandSpec, NOT_REPLAYED, type Request } from '../protocol/index.js';
import type { RequestPlan } from './behaviour.js';
import { authorize } from './commands/authorize.js';
import {
  type CommandContext,
  type CommandResult,
  type Final,
  fail,
  isDeferred,
  type TerminalCore,
} from './commands/context.js';
import { COMMAND_HANDLERS } from './commands/table.js';
import type { Connection } from './connection.js';
import type { MockLogger } from './logger.js';
import type { Recorder } from './recording.js';
import type { ReplyWriter } from './reply-writer.js';

/** A command that finishes later (DIAG) holds the terminal: other requests get 503 busy. */
export interface Execution {
  connection: Connection;
  cancel(): void;
}

/** What a command run needs from the terminal. */
export interface CommandRunner {
  readonly core: TerminalCore;
  readonly log: MockLogger;
  readonly recorder: Recorder;
  /** A deferred command started: the terminal is busy until it is released. */
  hold(execution: Execution): void;
  /** The command on `connection` finished (if it was holding the terminal, it no longer is). */
  release(connection: Connection): void;
  /** A fault asked for a reboot right after the command (its reply never goes out). */
  goDown(reason: string): void;
}

export interface CommandRun {
  connection: Connection;
  request: Request;
  writer: ReplyWriter;
  plan: RequestPlan;
  /** The request line masked, for the log. */
  masked: string;
}

export function runCommand(runner: CommandRunner, run: CommandRun): void {
  const { connection, request, writer, plan, masked } = run;
  const { core, log } = runner;
  const handler = COMMAND_HANDLERS[request.verb];
  const effects: (() => void)[] = [];
  const ctx: CommandContext = {
    core,
    session: connection,
    request,
    data: (fields) => writer.data(fields),
    afterReply: (effect) => effects.push(effect),
  };

  const complete = (final: Final): void => {
    runner.release(connection);
    writer.final(final);
    const code = final.ok ? 200 : final.err.code;
    if (request.id !== undefined && !NOT_REPLAYED.has(code))
      connection.replay.store(request.id, request.raw, writer.lines);
    const reply = final.ok ? 'OK' : `ERR ${final.err.code} ${final.err.reason}`;
    log.info(
      { connection: connection.label, request: masked, reply },
      plan.dropReply ? 'command (reply dropped)' : 'command',
    );
    runner.recorder.executed(connection.label, request.raw, reply, plan.dropReply || plan.reboot === 'after');
    for (const effect of effects) {
      try {
        effect();
      } catch (error) {
        log.error({ err: error }, 'internal error after a reply');
      }
    }
    if (plan.reboot === 'after') {
      log.info({ connection: connection.label }, 'fault: reboot after executing, reply never sent');
      runner.goDown('fault');
    }
  };
  const internal = (error: unknown): Final => {
    effects.length = 0;
    log.error({ connection: connection.label, request: masked, err: error }, 'internal error in a command');
    return fail('internal');
  };

  let result: CommandResult;
  try {
    const early = handler.precheck?.(ctx) ?? authorize(commandSpec(request.verb), connection, core.state);
    result = early ?? handler.run(ctx);
  } catch (error) {
    result = internal(error);
  }
  if (!isDeferred(result)) {
    complete(result);
    return;
  }

  let settled = false;
  let cancel = (): void => {};
  const finish = (final: Final): void => {
    if (settled) return;
    settled = true;
    complete(final);
  };
  runner.hold({
    connection,
    cancel: () => {
      settled = true;
      cancel();
    },
  });
  try {
    cancel = result.deferred(finish, (error) => finish(internal(error)));
  } catch (error) {
    finish(internal(error));
  }
}
