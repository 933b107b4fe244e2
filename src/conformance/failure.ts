/** How a check fails, and how a run ends early. */

export interface FailureDetail {
  expected?: string | undefined;
  got?: string | undefined;
  /** The request line involved, as sent (one char per byte). */
  sent?: string | undefined;
  /** The terminal's lines of that reply, as received. */
  received?: readonly string[] | undefined;
  /** Further rules the same reply broke. */
  more?: readonly string[] | undefined;
}

/** The terminal did something docs/protocol.md does not allow; the message starts with the rule's section. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';

  constructor(
    message: string,
    readonly detail: FailureDetail = {},
  ) {
    super(message);
  }
}

/** The link went away (unplugged, the server closed): the run cannot go on. */
export class LinkLost extends Error {
  override name = 'LinkLost';
}

/** The terminal could not be brought to the state a check starts from; the rest of the run is skipped. */
export class CannotContinue extends Error {
  override name = 'CannotContinue';
}
