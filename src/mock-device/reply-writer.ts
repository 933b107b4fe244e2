/**
 * The lines of one reply on their way out: encoded with the request's ID and CRC mode, recorded
 * for the replay cache exactly as produced, then dropped or delayed as the request's plan says.
 */
import {
  encodeData,
  encodeErrReply,
  encodeOk,
  type FieldList,
  type ReplyContext,
} from '../protocol/index.js';
import type { RequestPlan } from './behaviour.js';
import type { Final } from './commands/context.js';
import type { Connection } from './connection.js';

export class ReplyWriter {
  /** Every line written (not replayed ones), for the replay cache. */
  readonly lines: string[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly context: ReplyContext,
    private readonly plan: RequestPlan,
  ) {}

  data(fields: FieldList): void {
    this.write(encodeData(this.context, fields));
  }

  final(final: Final): void {
    this.write(final.ok ? encodeOk(this.context, final.fields) : encodeErrReply(this.context, final.err));
  }

  /** Stored lines of an earlier reply, sent again verbatim (D22). */
  replay(lines: readonly string[]): void {
    for (const line of lines) this.send(line);
  }

  private write(line: string): void {
    this.lines.push(line);
    this.send(line);
  }

  private send(line: string): void {
    if (!this.plan.dropReply) this.connection.sendReply(line, this.plan.delayMs ?? 0);
  }
}
