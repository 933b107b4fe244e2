/**
 * What each frame from the terminal means for the session. An EVT goes to the session's event
 * dispatch whenever it arrives (TSP/1: between any two lines of a reply too); a reply line goes to
 * the exchange of the request in flight when it carries its ID and a CRC; a damaged line concerns
 * the request in flight unless it names another ID; a damaged `EVT boot` is a restart all the same.
 * Every line reaches the trace first, as it came.
 */
import type { Logger } from 'pino';
import { ERR_REPLY, type Frame, parseReply, readLeadingId } from '../protocol/index.js';
import { mayBeDamagedBoot } from './damaged-boot.js';
import type { ExchangeEvent, Fields } from './exchange.js';
import { traceText } from './trace.js';

/** What the intake needs of the session. */
export interface IntakeSession {
  /** The request in flight (its ID once sent), or undefined when there is none. */
  inFlight(): { readonly id?: string | undefined } | undefined;
  /** Hands an event to the exchange of the request in flight. */
  toInFlight(event: ExchangeEvent): void;
  /** An EVT line (or a damaged `EVT boot`) for the session's listeners and the request in flight. */
  event(name: string, fields: Fields): void;
  /** A received line, for the log and the traces. */
  traceIn(raw: string): void;
}

export class LineIntake {
  constructor(
    private readonly name: string,
    private readonly logger: Logger,
    private readonly session: IntakeSession,
  ) {}

  frame(frame: Frame): void {
    if (frame.kind === 'too-long') {
      const note = `[${frame.length} bytes without a line end, discarded]`;
      this.session.traceIn(note);
      this.damaged(undefined, 'unreadable', `a line of ${frame.length} bytes`);
      return;
    }
    if (frame.kind === 'bad-bytes') {
      this.session.traceIn(frame.text);
      if (this.damagedBoot(frame.text, `byte outside printable ASCII at offset ${frame.offset}`)) return;
      this.damaged(
        readLeadingId(frame.text),
        'unreadable',
        `byte outside printable ASCII at offset ${frame.offset}`,
      );
      return;
    }
    const text = frame.text;
    this.session.traceIn(text);
    const parsed = parseReply(text);
    if (!parsed.ok) {
      if (this.damagedBoot(text, parsed.problem)) return;
      this.damaged(readLeadingId(text), parsed.crcBad ? 'bad-crc' : 'unreadable', parsed.problem);
      return;
    }
    const { reply } = parsed;
    if (reply.kind === 'evt') {
      this.session.event(reply.event!, reply.fields);
      return;
    }
    const entry = this.session.inFlight();
    if (reply.id === undefined) {
      // Only a line that was not read (413 has no ID; a 400/460 whose ID could not be read)
      // concerns the request in flight; anything else without an ID is not ours.
      if (entry && reply.kind === 'err' && isNotRead(reply.fields)) {
        this.session.toInFlight({ type: 'err', fields: reply.fields });
      } else {
        this.logger.warn({ port: this.name, line: traceText(text) }, 'ignoring a reply without ID');
      }
      return;
    }
    if (!entry || reply.id !== entry.id) {
      // A late reply to a request that already completed (e.g. the replay of a retransmission).
      this.logger.debug({ port: this.name, id: reply.id }, 'ignoring a reply to no pending request');
      return;
    }
    if (!reply.crc) {
      // We always send a CRC, so every reply line must carry one (TSP/1); without it the line
      // cannot be trusted.
      this.session.toInFlight({ type: 'damaged', kind: 'unreadable', detail: 'reply line without CRC' });
      return;
    }
    if (reply.kind === 'data') this.session.toInFlight({ type: 'data', fields: reply.fields });
    else if (reply.kind === 'ok') this.session.toInFlight({ type: 'ok', fields: reply.fields });
    else this.session.toInFlight({ type: 'err', fields: reply.fields });
  }

  /**
   * A damaged line that reads `EVT boot` (give or take the flipped bit) is a restart all the
   * same: our login and the terminal's replay cache are gone, so the request in flight must not
   * be resent, which taking the line for a damaged reply would do.
   */
  private damagedBoot(text: string, detail: string): boolean {
    if (!mayBeDamagedBoot(text)) return false;
    this.logger.warn({ port: this.name, detail }, 'damaged EVT boot: taken as a restart');
    this.session.event('boot', {});
    return true;
  }

  /** A line that cannot be trusted: it concerns the request in flight unless it names another ID. */
  private damaged(id: string | undefined, kind: 'bad-crc' | 'unreadable', detail: string): void {
    const entry = this.session.inFlight();
    this.logger.warn({ port: this.name, kind, detail, id }, 'damaged line from the terminal');
    if (!entry || (id !== undefined && id !== entry.id)) return;
    this.session.toInFlight({ type: 'damaged', kind, detail });
  }
}

/** ERR 400, 413 or 460: the terminal could not read a line (without an ID: the line just sent). */
function isNotRead(fields: Fields): boolean {
  const err = ERR_REPLY.decode(fields);
  return err.ok && [400, 413, 460].includes(err.value.code);
}
